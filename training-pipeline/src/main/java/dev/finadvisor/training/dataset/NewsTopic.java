package dev.finadvisor.training.dataset;

import dev.finadvisor.domain.news.NewsArticle;
import java.util.List;
import java.util.Locale;

/**
 * What a news article is about, as far as advice goes: the assets it moves, the questions an
 * investor would ask about it, and what each kind of investor can sensibly do.
 */
public enum NewsTopic {
    TECH("technology stocks",
            List.of("nvidia", "microsoft", "apple", "alphabet", "meta ", "software", "semiconductor", "chip", "cloud",
                    "cybersecurity", " ai ", "artificial intelligence", "iphone"),
            List.of("Should I put more of my money into tech stocks?", "Are AI stocks still worth buying?",
                    "Is it too late to invest in technology companies?"),
            List.of("A broad technology index fund captures the theme without betting everything on one company's next quarter.",
                    "Spreading your tech exposure across a fund of many companies protects you if one of them stumbles."),
            List.of("Keep single tech stocks to a small share and hold the rest through a diversified fund.")),
    RATES("both stocks and bonds",
            List.of("federal reserve", "fed ", "rate cut", "central bank", "benchmark rate", "policy rate"),
            List.of("How should I position my savings if interest rates change?", "What do rate changes mean for my investments?",
                    "Should I lock in today's rates on my savings?"),
            List.of("Rather than guessing the next rate move, keep a mix of stocks and bonds you would hold either way.",
                    "Central bank decisions move prices for a few days; your asset mix should be set by your goals, not by the next meeting."),
            List.of("Locking part of your cash into Treasury bills or a CD ladder keeps today's yields working for you.")),
    BONDS("bonds",
            List.of("treasury", "bond", "yield", "money market", "municipal", "spreads"),
            List.of("Is now a good time to buy bonds?", "Should I move some money into bond funds?",
                    "Are short-term bonds better than a savings account right now?"),
            List.of("A short-term Treasury or high-quality bond fund adds steadiness without much exposure to rate swings.",
                    "Matching bond maturities to when you need the money removes most of the worry about price moves."),
            List.of("Short-term Treasuries and a high-yield savings account are the natural home for money you will need soon.")),
    INFLATION("bonds and savings",
            List.of("inflation", "consumer prices", "prices rise", "food prices", "services inflation"),
            List.of("How do I protect my savings from inflation?", "What does this inflation news mean for my money?",
                    "Should I change my investments because of inflation?"),
            List.of("Over long periods a diversified stock portfolio has been the most reliable way to outgrow inflation.",
                    "Inflation-protected Treasury bonds (TIPS) guard the part of your savings you cannot put at risk."),
            List.of("Inflation-protected Treasury bonds (TIPS) keep safe money from quietly losing value.")),
    ENERGY("energy stocks",
            List.of("oil", "crude", "natural gas", "exxon", "energy stocks", "drilling"),
            List.of("Should I buy energy stocks now?", "Is it worth investing in oil companies?",
                    "Should I add an energy fund to my portfolio?"),
            List.of("Energy is cyclical, so a broad energy fund held as a modest slice is safer than chasing one producer after a spike.",
                    "Oil prices swing with politics and weather; size any energy position so a sharp fall would not derail you."),
            List.of("If you want energy exposure, a dividend-paying energy fund in a small dose is enough.")),
    CLEAN_ENERGY("clean energy stocks",
            List.of("solar", "wind", "renewable", "clean power", "grid", "utilities plan"),
            List.of("Are renewable energy stocks a good long-term investment?", "Should I invest in solar or wind companies?",
                    "Is clean energy worth adding to my portfolio?"),
            List.of("Clean energy has strong long-term demand but volatile shares, so a diversified clean energy fund beats picking one developer.",
                    "The transition will take decades; owning it through a broad fund lets you benefit without timing each policy change."),
            List.of("Utilities building clean power offer steadier exposure to the theme than small developers.")),
    EV("electric vehicle makers",
            List.of("tesla", "electric vehicle", " ev ", "automaker", "battery", "lithium", "deliveries"),
            List.of("Should I buy Tesla or other EV stocks?", "Is investing in electric vehicles still a good idea?",
                    "Should I invest in battery and lithium companies?"),
            List.of("EV stocks swing hard on each delivery report, so treat them as a satellite position next to a broad index fund.",
                    "The EV shift is real but crowded; a diversified fund of automakers and suppliers avoids betting on one winner."),
            List.of("If you want a piece of the EV trend, a small position through a broad fund keeps the risk contained.")),
    CRYPTO("crypto",
            List.of("bitcoin", "ether", "crypto", "blockchain"),
            List.of("Should I invest in bitcoin now?", "How much of my money should go into crypto?",
                    "Is it safe to buy crypto after this news?"),
            List.of("Keep crypto to a small slice, around five percent at most, that you could watch halve without changing your plans.",
                    "If you buy crypto, do it in small regular amounts through a regulated fund rather than all at once."),
            List.of("Crypto is best left out of money you rely on; if you want a taste, keep it to one or two percent.")),
    REAL_ESTATE("real estate",
            List.of("mortgage", "home sales", "homebuilder", "reit", "real estate", "housing", "home prices"),
            List.of("Should I invest in real estate now?", "Is this a good time to buy a home or a REIT fund?",
                    "How does the housing market affect my plans?"),
            List.of("A diversified REIT fund gives you property exposure with daily liquidity and without a mortgage.",
                    "Property is a long game, so avoid stretching your budget just because rates moved this month."),
            List.of("A broad REIT fund can add income, but keep it a modest part of the portfolio.")),
    HEALTHCARE("healthcare stocks",
            List.of("drugmaker", "pharmaceutical", "biotech", "health insurer", "medical", "weight-loss", "trial"),
            List.of("Are healthcare stocks a good investment now?", "Should I invest in biotech companies?",
                    "Is it a good idea to buy pharmaceutical stocks?"),
            List.of("Healthcare mixes steady giants with very risky biotech, so a broad healthcare fund is the sensible way in.",
                    "Single drug trials can make or break a small company; a diversified fund spreads that risk."),
            List.of("Large, dividend-paying healthcare companies are defensive holdings that suit a cautious portfolio.")),
    CONSUMER("consumer stocks",
            List.of("retail", "shoppers", "restaurant", "consumer", "delivery", "discount", "diners", "amazon"),
            List.of("What does consumer spending news mean for my stocks?", "Should I invest in retail companies?",
                    "Are consumer stocks a good buy right now?"),
            List.of("Consumer habits shift slowly, so let a broad market fund capture them rather than trading retailers on each report.",
                    "Staples that sell everyday goods hold up in slowdowns, while discretionary names swing more with the economy."),
            List.of("Everyday-goods companies and their dividends can steady a portfolio when the economy slows.")),
    EMERGING_MARKETS("emerging markets",
            List.of("india", "brazil", "china", "chinese", "emerging market", "southeast asia", "vietnam", "indonesia", "mexico"),
            List.of("Should I invest in emerging markets?", "Is it a good time to buy international stocks?",
                    "How much of my portfolio should be in developing countries?"),
            List.of("A diversified emerging markets fund spreads your bet across dozens of countries instead of one economy's politics.",
                    "Emerging markets can add growth, but currency swings and politics mean they belong in a measured slice of your portfolio."),
            List.of("If you add emerging markets, keep it a small part of a globally diversified fund.")),
    COMMODITIES("commodities",
            List.of("gold", "copper", "commodit", "metal", "silver"),
            List.of("Should I buy gold as a hedge?", "Is it worth investing in commodities?",
                    "Should I add precious metals to my portfolio?"),
            List.of("Gold and other commodities pay no income, so hold them as a small hedge rather than a core investment.",
                    "A five to ten percent commodity slice can cushion shocks, but it should not replace stocks and bonds."),
            List.of("A small gold position can hedge against shocks without adding much risk.")),
    DIVIDENDS("dividend stocks",
            List.of("dividend", "utilities and consumer staples", "defensive"),
            List.of("Should I focus on dividend stocks?", "Are dividend-paying companies a safe investment?",
                    "How can I build a steady income from stocks?"),
            List.of("A fund of companies that keep growing their dividends beats chasing the highest yield, which often signals trouble.",
                    "Dividends are never guaranteed, so spread income holdings across many companies and sectors."),
            List.of("Dividend growers with strong balance sheets provide income you can rely on.")),
    BANKS("bank stocks",
            List.of(" bank ", " banks", "bank stocks", "lender", "loan losses"),
            List.of("Are bank stocks a good investment now?", "Should I worry about the money I keep at my bank?",
                    "Is it a good time to buy financial stocks?"),
            List.of("Bank stocks move with the economy and with credit losses, so hold the sector through a broad fund rather than one lender.",
                    "Keep deposits under the insured limit at each bank and treat bank shares as a separate, riskier decision."),
            List.of("Large, well-capitalised banks are steadier than regional lenders if you want financial stocks at all.")),
    SMALL_CAPS("small-cap stocks",
            List.of("small-cap", "small cap", "russell 2000", "smaller companies"),
            List.of("Should I invest in small-cap stocks?", "Is now the time to buy smaller companies?",
                    "Do small caps belong in my portfolio?"),
            List.of("Small caps can outpace large companies over long stretches, but they fall harder in downturns, so size them accordingly.",
                    "A small-cap index fund adds a different source of growth to a portfolio dominated by the largest companies."),
            List.of("Small caps are volatile, so keep them a minor part of a cautious portfolio.")),
    MARKET("the broad stock market",
            List.of("s&p 500", "stocks fall", "volatility", "ipo", "record high", "unemployment", "jobs", "market"),
            List.of("Should I invest now or wait for a pullback?", "What should I do with my investments after this market move?",
                    "Is it a good time to put more money into stocks?"),
            List.of("Investing a fixed amount every month takes the guesswork out of whether today is a good day to buy.",
                    "Time in the market has beaten timing the market for most investors, so stick with a steady plan."),
            List.of("A balanced fund of stocks and bonds lets you stay invested without riding every swing."));

    private final String assets;
    private final List<String> keywords;
    private final List<String> questions;
    private final List<String> growthMoves;
    private final List<String> cautiousMoves;

    NewsTopic(String assets, List<String> keywords, List<String> questions, List<String> growthMoves, List<String> cautiousMoves) {
        this.assets = assets;
        this.keywords = keywords;
        this.questions = questions;
        this.growthMoves = growthMoves;
        this.cautiousMoves = cautiousMoves;
    }

    /** The assets the news moves, as a noun phrase ("technology stocks"). */
    public String assets() {
        return assets;
    }

    /** Questions an investor would ask about such news. */
    public List<String> questions() {
        return questions;
    }

    /** What an investor who can take risk might do about it. */
    List<String> growthMoves() {
        return growthMoves;
    }

    /** What a cautious investor might do about it. */
    List<String> cautiousMoves() {
        return cautiousMoves;
    }

    /**
     * The topic the article is mainly about: keywords in the headline count twice, in the summary
     * once; a tie goes to the topic named first in the headline (the subject usually leads). The
     * broad market is the fallback when no specific topic is mentioned.
     */
    public static NewsTopic of(NewsArticle article) {
        String headline = " " + nullToEmpty(article.headline()).toLowerCase(Locale.ROOT) + " ";
        String summary = " " + nullToEmpty(article.summary()).toLowerCase(Locale.ROOT) + " ";
        NewsTopic best = MARKET;
        int bestScore = 0;
        int bestPosition = Integer.MAX_VALUE;
        for (NewsTopic t : values()) {
            if (t == MARKET) continue;
            int score = 0;
            int position = Integer.MAX_VALUE;
            for (String k : t.keywords) {
                int at = headline.indexOf(k);
                if (at >= 0) {
                    score += 2;
                    position = Math.min(position, at);
                }
                if (summary.contains(k)) score++;
            }
            if (score > bestScore || (score == bestScore && score > 0 && position < bestPosition)) {
                best = t;
                bestScore = score;
                bestPosition = position;
            }
        }
        return best;
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
