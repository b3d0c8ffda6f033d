package dev.finadvisor.inference.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium driven by Selenium (Debian's {@code chromium} and {@code chromium-driver}, or the ones
 * named by {@code CHROME_BIN} / {@code CHROMEDRIVER}). Without them the browser tests are skipped, unless
 * {@code FINADVISOR_BROWSER_TESTS=required} (CI sets it), when their absence fails the test.
 */
public final class Browser implements AutoCloseable {
    public final ChromeDriver driver;
    private final Path screenshots;
    private final Path profile;

    private Browser(ChromeDriver driver, Path screenshots, Path profile) {
        this.driver = driver;
        this.screenshots = screenshots;
        this.profile = profile;
    }

    public static Browser start(String testName) throws IOException {
        Path chromium = executable("CHROME_BIN", "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome");
        Path chromedriver = executable("CHROMEDRIVER", "/usr/bin/chromedriver");
        boolean required = "required".equals(System.getenv("FINADVISOR_BROWSER_TESTS"));
        if (chromium == null || chromedriver == null) {
            String missing = "no " + (chromium == null ? "chromium" : "chromedriver") + " (apt-get install chromium chromium-driver)";
            if (required) throw new AssertionError("FINADVISOR_BROWSER_TESTS=required but " + missing);
            Assumptions.abort(missing);
        }
        Path profile = Files.createTempDirectory("finadvisor-chromium");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-extensions", "--window-size=1280,900", "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver.toFile())
                .usingAnyFreePort().build();
        ChromeDriver driver;
        try {
            driver = new ChromeDriver(service, options);
        } catch (RuntimeException e) { // e.g. chromium and chromedriver of different versions
            deleteTree(profile);
            throw e;
        }
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        Path shots = Path.of("target", "screenshots", testName);
        Files.createDirectories(shots);
        return new Browser(driver, shots, profile);
    }

    private static Path executable(String env, String... candidates) {
        String given = System.getenv(env);
        for (String c : given != null && !given.isBlank() ? List.of(given) : List.of(candidates)) {
            File f = new File(c);
            if (f.canExecute()) return f.toPath();
        }
        return null;
    }

    public void open(String url) {
        driver.get(url);
    }

    public WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    public List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    /** Waits (up to {@code seconds}) until {@code condition} gives a non-null, non-false value, and returns it. */
    public <T> T await(int seconds, Function<WebDriver, T> condition) {
        return new WebDriverWait(driver, Duration.ofSeconds(seconds), Duration.ofMillis(20)).until(condition);
    }

    public Object js(String script, Object... args) {
        return driver.executeScript(script, args);
    }

    public void resize(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
    }

    /** Saves a PNG of the page under target/screenshots/TEST/NAME.png. */
    public Path screenshot(String name) throws IOException {
        Path to = screenshots.resolve(name + ".png");
        Files.write(to, driver.getScreenshotAs(OutputType.BYTES));
        return to;
    }

    /** The page's form controls that have no accessible name (no label, aria-label or text): should be none. */
    @SuppressWarnings("unchecked")
    public List<String> unlabelledControls() {
        return (List<String>) js("""
                const named = e => (e.labels && e.labels.length) || e.getAttribute('aria-label')
                  || e.getAttribute('aria-labelledby') || (e.tagName === 'BUTTON' && e.textContent.trim());
                return [...document.querySelectorAll('input, select, textarea, button')]
                  .filter(e => e.offsetParent !== null && !named(e)).map(e => e.outerHTML.slice(0, 80));""");
    }

    /** True when the page is no wider than the window (nothing scrolls sideways at phone width). */
    public boolean fitsWidth() {
        return (Boolean) js("return document.documentElement.scrollWidth <= window.innerWidth;");
    }

    /** Sets a textarea or input the way typing would (for long texts: sendKeys types character by character). */
    public void fill(String css, String text) {
        WebElement e = find(css);
        e.clear();
        e.sendKeys(text);
        assertThat(e.getDomProperty("value")).isEqualTo(text);
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            deleteTree(profile);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
