package dev.finadvisor.training.dataset;

import dev.finadvisor.domain.news.NewsArticle;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * Writes short fictional news articles in Alpaca's format, for a pretraining corpus and for synthetic Q&A beyond the
 * bundled sample: company news (results, outlooks, analyst calls, products, regulators, buybacks) about listed companies
 * named with their tickers, and market news (central banks, inflation, jobs, oil, gold, currencies), with invented
 * figures. The wording carries the topic's and the tone's keywords, so {@link NewsTopic} and {@link NewsSentiment}
 * read a written article as they read a real one. The same seed gives the same articles. Invented news about real
 * companies: for training text only, never to be served as news.
 */
public final class NewsWriter {
    /** The {@code author} of every written article. */
    public static final String AUTHOR = "finadvisor news writer (fictional)";
    private static final Instant START = Instant.parse("2024-01-02T13:30:00Z");

    /** A listed company: its name, ticker, what kind of company it is and what it sells. */
    record Company(String name, String ticker, String kind, String product) {}

    static final List<Company> COMPANIES = List.of(
            new Company("Nvidia", "NVDA", "chipmaker", "AI accelerators"),
            new Company("AMD", "AMD", "chipmaker", "data center processors"),
            new Company("Intel", "INTC", "chipmaker", "PC processors"),
            new Company("Broadcom", "AVGO", "chipmaker", "networking chips"),
            new Company("Microsoft", "MSFT", "software maker", "cloud services"),
            new Company("Oracle", "ORCL", "software maker", "database software"),
            new Company("Salesforce", "CRM", "software maker", "sales software"),
            new Company("Adobe", "ADBE", "software maker", "design software"),
            new Company("Apple", "AAPL", "technology company", "iPhones"),
            new Company("Alphabet", "GOOGL", "technology company", "search ads and cloud services"),
            new Company("Meta", "META", "technology company", "advertising"),
            new Company("CrowdStrike", "CRWD", "cybersecurity firm", "security software"),
            new Company("Tesla", "TSLA", "electric vehicle maker", "electric vehicles"),
            new Company("Rivian", "RIVN", "electric vehicle maker", "electric trucks"),
            new Company("General Motors", "GM", "automaker", "electric vehicle and truck sales"),
            new Company("Albemarle", "ALB", "lithium producer", "battery-grade lithium"),
            new Company("Exxon Mobil", "XOM", "oil producer", "crude oil and fuels"),
            new Company("Chevron", "CVX", "oil producer", "crude oil and natural gas"),
            new Company("NextEra Energy", "NEE", "utility and renewable developer", "wind and solar power"),
            new Company("First Solar", "FSLR", "solar panel maker", "solar panels"),
            new Company("Eli Lilly", "LLY", "drugmaker", "weight-loss treatments"),
            new Company("Pfizer", "PFE", "drugmaker", "vaccines and medicines"),
            new Company("Moderna", "MRNA", "biotech company", "vaccines"),
            new Company("UnitedHealth", "UNH", "health insurer", "health plans"),
            new Company("Walmart", "WMT", "retailer", "groceries and everyday goods"),
            new Company("Costco", "COST", "retailer", "memberships and groceries"),
            new Company("Amazon", "AMZN", "online retailer", "delivery and cloud services"),
            new Company("McDonald's", "MCD", "restaurant chain", "meals"),
            new Company("Nike", "NKE", "consumer brand", "sportswear"),
            new Company("Coca-Cola", "KO", "consumer staples company", "drinks"),
            new Company("JPMorgan Chase", "JPM", "bank and lender", "loans and trading"),
            new Company("Bank of America", "BAC", "bank and lender", "consumer loans"),
            new Company("Goldman Sachs", "GS", "bank and lender", "trading and advisory"),
            new Company("Lennar", "LEN", "homebuilder", "new homes"),
            new Company("Prologis", "PLD", "real estate investment trust (REIT)", "warehouses"),
            new Company("Coinbase", "COIN", "crypto exchange", "crypto trading"),
            new Company("Freeport-McMoRan", "FCX", "copper miner", "copper"),
            new Company("Newmont", "NEM", "gold miner", "gold"),
            new Company("Verizon", "VZ", "telecom company with a large dividend", "wireless plans"),
            new Company("Procter & Gamble", "PG", "consumer staples company with a long dividend record", "household goods"));

    /** Company names by ticker, for the companies written about here and those in the bundled sample (funds have none). */
    public static final Map<String, String> NAMES = names();

    private static final String[] DAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"};
    private static final String[] QUARTERS = {"first", "second", "third", "fourth"};
    private static final String[] ANALYSTS = {"Morgan Stanley", "Barclays", "UBS", "Jefferies", "Bernstein", "Citi", "Wells Fargo"};

    private NewsWriter() {}

    /** {@code n} articles, fully determined by {@code seed}; ids count up from {@code firstId}, about 20 hours apart. */
    public static List<NewsArticle> write(int n, long seed, long firstId) {
        SplittableRandom r = new SplittableRandom(seed);
        List<NewsArticle> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String[] story = r.nextInt(100) < 70 ? companyStory(InvestorProfile.pick(r, COMPANIES), r) : marketStory(r);
            Instant at = START.plus(Duration.ofHours(20L * i + r.nextInt(6)));
            List<String> symbols = List.of(story[2].split(","));
            out.add(new NewsArticle(firstId + i, story[0], story[1], AUTHOR, at, at, "https://news.example.com/finadvisor-writer/" + (firstId + i),
                    "<p>" + story[1] + "</p>", symbols, "finadvisor"));
        }
        return out;
    }

    /** The article as corpus text: headline, then summary. */
    public static String text(NewsArticle a) {
        return a.headline() + "\n" + a.summary();
    }

    /** Headline, summary and comma-separated symbols of one company story. */
    static String[] companyStory(Company c, SplittableRandom r) {
        String n = c.name();
        String day = DAYS[r.nextInt(DAYS.length)];
        String quarter = QUARTERS[r.nextInt(QUARTERS.length)];
        double billions = Math.round((2 + r.nextDouble() * 60) * 10) / 10.0;
        int pct = 2 + r.nextInt(14);
        int move = 1 + r.nextInt(9);
        String who = (n.equals(c.ticker()) ? n : n + " (" + c.ticker() + ")") + ", the " + c.kind() + ",";
        String headline;
        String summary;
        switch (r.nextInt(12)) {
            case 0 -> {
                headline = n + " Shares Rise After Earnings Beat Estimates";
                summary = who + " reported " + quarter + "-quarter sales of $" + billions + " billion, ahead of forecasts, as demand for its "
                        + c.product() + " stayed strong. The shares gained " + move + "% on " + day + ".";
            }
            case 1 -> {
                headline = n + " Raises Full-Year Outlook on Strong Demand";
                summary = who + " raised its outlook for the year, saying orders for its " + c.product() + " grew " + pct
                        + "% from a year earlier. Investors welcomed the news and the stock climbed " + move + "%.";
            }
            case 2 -> {
                headline = InvestorProfile.pick(r, List.of(ANALYSTS)) + " Upgrades " + n + " to Buy";
                summary = "Analysts upgraded " + who + " arguing that demand for its " + c.product()
                        + " will stay strong for years. The shares rose " + move + "% in early trading on " + day + ".";
            }
            case 3 -> {
                headline = n + " Announces $" + (1 + r.nextInt(30)) + " Billion Buyback and Higher Dividend";
                summary = who + " said it will buy back shares and raise its dividend by " + pct
                        + "%, a sign of confidence in its cash flow. The stock gained " + move + "%.";
            }
            case 4 -> {
                headline = n + " Shares Fall as Sales Miss Forecasts";
                summary = who + " reported " + quarter + "-quarter sales of $" + billions + " billion, short of forecasts, as customers bought fewer "
                        + c.product() + ". The shares fell " + move + "% on " + day + ".";
            }
            case 5 -> {
                headline = n + " Cuts Outlook, Citing Weaker Demand";
                summary = who + " lowered its forecast for the year and warned that demand for its " + c.product()
                        + " has slowed. The stock dropped " + move + "% as investors worried about profits.";
            }
            case 6 -> {
                headline = "Regulators Open Probe Into " + n + "; Shares Slide";
                summary = "Regulators opened an investigation into how " + who + " sells its " + c.product()
                        + ". The company said it would cooperate, and the shares fell " + move + "% on " + day + ".";
            }
            case 7 -> {
                headline = InvestorProfile.pick(r, List.of(ANALYSTS)) + " Downgrades " + n + " on Valuation Worries";
                summary = "Analysts downgraded " + who + " saying the stock already prices in years of growth in its " + c.product()
                        + ". The shares slipped " + move + "%.";
            }
            case 8 -> {
                headline = n + " Beats on Profit but Sales Fall Short";
                summary = who + " earned more than expected in the " + quarter + " quarter, but sales of its " + c.product()
                        + " missed forecasts. The shares ended " + day + " little changed.";
            }
            case 9 -> {
                headline = n + " Names New Chief Executive";
                summary = who + " named a new chief executive, who will take over next quarter with plans to focus on its "
                        + c.product() + ". Analysts were split on what the change means for the stock.";
            }
            case 10 -> {
                headline = n + " Unveils New " + capitalise(c.product()) + " Plans";
                summary = who + " announced a $" + billions + " billion plan to expand its " + c.product()
                        + " business over the next " + (2 + r.nextInt(4)) + " years. Some investors cheered the ambition, others worried about the cost.";
            }
            default -> {
                headline = n + " Warns of Supply Delays";
                summary = who + " warned that supply problems will delay shipments of its " + c.product()
                        + " into next quarter. The stock fell " + move + "% on " + day + ".";
            }
        }
        return new String[] {headline, summary, c.ticker()};
    }

    /** Headline, summary and symbols of one market story. */
    static String[] marketStory(SplittableRandom r) {
        String day = DAYS[r.nextInt(DAYS.length)];
        double rate = 2 + r.nextInt(16) * 0.25;
        double inflation = Math.round((1.5 + r.nextDouble() * 4) * 10) / 10.0;
        int move = 1 + r.nextInt(6);
        return switch (r.nextInt(12)) {
            case 0 -> new String[] {"Federal Reserve Holds Rates Steady at " + fmt(rate) + "%",
                    "The Federal Reserve kept its benchmark rate at " + fmt(rate) + "% on " + day + " and said it will watch inflation closely before its next move.",
                    "SPY,TLT"};
            case 1 -> new String[] {"Fed Cuts Rates by a Quarter Point",
                    "The Federal Reserve cut its benchmark rate to " + fmt(rate) + "%, saying inflation is cooling. Stocks rose and bond yields eased.",
                    "SPY,TLT"};
            case 2 -> new String[] {"Consumer Prices Rise " + inflation + "% From a Year Earlier",
                    "Consumer prices rose " + inflation + "% over the past year, " + (inflation > 3 ? "more than economists expected, keeping inflation worries alive."
                            : "less than economists expected, a relief for bond investors."),
                    "TIP,SPY"};
            case 3 -> new String[] {"Treasury Yields Jump After Strong Jobs Report",
                    "Employers added more jobs than expected last month, and Treasury yields rose as traders pushed back bets on rate cuts.",
                    "TLT,IEF"};
            case 4 -> new String[] {"Unemployment Rate Ticks Up as Hiring Slows",
                    "The unemployment rate rose to " + fmt(3.5 + r.nextInt(8) * 0.1) + "% as hiring slowed, adding to worries about the economy.",
                    "SPY"};
            case 5 -> new String[] {"Oil Prices " + (r.nextBoolean() ? "Surge" : "Tumble") + " " + (5 + r.nextInt(10)) + "% This Week",
                    "Crude oil prices moved sharply this week as producers changed output plans, pulling energy stocks along.",
                    "XOM,CVX,USO"};
            case 6 -> new String[] {"Gold Hits Record High on Central Bank Buying",
                    "Gold rose to a record as central banks kept buying the metal, and investors sought a hedge against uncertainty.",
                    "GLD"};
            case 7 -> new String[] {"S&P 500 " + (r.nextBoolean() ? "Gains" : "Falls") + " " + move + "% for the Week",
                    "The S&P 500 moved " + move + "% this week as investors weighed company earnings and the outlook for interest rates.",
                    "SPY,VOO"};
            case 8 -> new String[] {"Emerging Market Stocks Rally as Dollar Weakens",
                    "Stocks in India, Brazil and Mexico rose as a weaker dollar made emerging market assets more attractive to global investors.",
                    "EEM,VWO"};
            case 9 -> new String[] {"Mortgage Rates Drop to " + fmt(5 + r.nextInt(12) * 0.25) + "%",
                    "Mortgage rates fell for a third week, and homebuilder shares rose as buyers returned to the housing market.",
                    "ITB,DHI"};
            case 10 -> new String[] {"Bitcoin " + (r.nextBoolean() ? "Climbs" : "Slides") + " " + (3 + r.nextInt(12)) + "% in a Day",
                    "Bitcoin swung sharply as crypto traders reacted to flows into bitcoin funds, a reminder of how volatile the asset remains.",
                    "BTCUSD,IBIT"};
            default -> new String[] {"Small-Cap Stocks Rally on Rate Cut Hopes",
                    "Shares of smaller companies in the Russell 2000 rose " + move + "% as investors bet that lower rates would ease their borrowing costs.",
                    "IWM"};
        };
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v).replaceAll("0$", "").replaceAll("\\.0$", "");
    }

    private static String capitalise(String s) {
        StringBuilder sb = new StringBuilder();
        for (String w : s.split(" ")) {
            if (sb.length() > 0) sb.append(' ');
            sb.append(w.length() <= 3 && !w.equals("AI") ? w : Character.toUpperCase(w.charAt(0)) + w.substring(1));
        }
        return sb.toString();
    }

    private static Map<String, String> names() {
        Map<String, String> m = COMPANIES.stream().collect(Collectors.toMap(Company::ticker, Company::name));
        // The bundled sample's single-company tickers.
        m.putIfAbsent("CMG", "Chipotle");
        m.putIfAbsent("F", "Ford");
        m.putIfAbsent("HUM", "Humana");
        m.putIfAbsent("NVO", "Novo Nordisk");
        m.putIfAbsent("ISRG", "Intuitive Surgical");
        m.putIfAbsent("PANW", "Palo Alto Networks");
        m.putIfAbsent("NOW", "ServiceNow");
        m.putIfAbsent("ENPH", "Enphase");
        m.putIfAbsent("MS", "Morgan Stanley");
        m.putIfAbsent("T", "AT&T");
        m.putIfAbsent("DG", "Dollar General");
        m.putIfAbsent("SYK", "Stryker");
        return Map.copyOf(m);
    }
}
