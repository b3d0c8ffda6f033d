package dev.finadvisor.training.dataset;

import dev.finadvisor.training.dataset.InvestorProfile.Goal;
import dev.finadvisor.training.dataset.InvestorProfile.LifeStage;
import dev.finadvisor.training.dataset.InvestorProfile.RiskTolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes the advisor's answer: how to read the news, what it means for this investor's stage and
 * appetite for risk, one step toward their goal, one concrete move for the topic, and sometimes a closing
 * habit. Each part is chosen only from sentences written for that kind of investor, so a
 * 25-year-old never hears about withdrawals in retirement, and the answer stays under
 * {@link #MAX_WORDS} words.
 */
public final class AdviceWriter {
    /** Answers stay short, like the course's (at most 120 words; most are 50-100). */
    public static final int MAX_WORDS = 115;

    private AdviceWriter() {}

    /**
     * One answer for this investor about news of this topic and tone; {@code subject} (a company or ticker the question or
     * the news is about, or null) is named where the answer reads the news.
     */
    public static String write(InvestorProfile p, NewsTopic topic, NewsSentiment sentiment, String subject, SplittableRandom r) {
        List<String> sentences = new ArrayList<>();
        String reading = InvestorProfile.pick(r, reading(sentiment));
        sentences.add(fill(subject == null ? reading : reading.replace("{assets}", subject), p, topic));
        List<String> stage = p.goal() == Goal.HOUSE_DEPOSIT ? beyondTheDeposit(p.risk()) : stageAndRisk(p.stage(), p.risk());
        sentences.add(fill(InvestorProfile.pick(r, stage), p, topic));
        sentences.add(fill(InvestorProfile.pick(r, goal(p.goal())), p, topic));
        // The topic's move comes last: it varies most, so answers do not all end alike.
        boolean depositSoon = p.goal() == Goal.HOUSE_DEPOSIT && p.horizonYears() <= 3;
        if (!depositSoon) {
            boolean cautious = p.risk() == RiskTolerance.CONSERVATIVE || p.stage() == LifeStage.RETIRED;
            sentences.add(InvestorProfile.pick(r, cautious ? topic.cautiousMoves() : topic.growthMoves()));
        }
        // A closing habit on some answers only: the same kind of last line on every answer is boilerplate a model would parrot.
        if (r.nextInt(100) < 45) {
            String closing = InvestorProfile.pick(r, closings(p.stage()));
            if (words(sentences) + words(closing) <= MAX_WORDS) sentences.add(closing);
        }
        // A risk caveat on some: what could go wrong with the move, said plainly.
        if (r.nextInt(100) < 20 && sentences.size() < 6) {
            String caveat = fill(InvestorProfile.pick(r, caveats(sentiment)), p, topic);
            if (words(sentences) + words(caveat) <= MAX_WORDS) sentences.add(caveat);
        }
        while (words(sentences) > MAX_WORDS && sentences.size() > 3) sentences.remove(2);
        return String.join(" ", sentences);
    }

    static int words(List<String> sentences) {
        int n = 0;
        for (String s : sentences) n += words(s);
        return n;
    }

    static int words(String s) {
        String t = s.strip();
        return t.isEmpty() ? 0 : t.split("\\s+").length;
    }

    private static String fill(String template, InvestorProfile p, NewsTopic topic) {
        String s = template.replace("{assets}", topic.assets())
                .replace("{age}", Integer.toString(p.age()))
                .replace("{horizon}", InvestorProfile.years(p.horizonYears()))
                .replace("{to_retirement}", InvestorProfile.years(p.goal() == Goal.RETIRE_COMFORTABLY ? p.horizonYears() : Math.max(1, 65 - p.age())));
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    static List<String> reading(NewsSentiment sentiment) {
        return switch (sentiment) {
            case POSITIVE -> List.of(
                    "This is encouraging news for {assets}, but good headlines are usually priced in within hours.",
                    "News like this tends to lift {assets} quickly, which is exactly when buying in a rush is riskiest.",
                    "It is a positive sign for {assets}, though one strong report does not make a trend.",
                    "Headlines like this pull money into {assets}, so prices can run ahead of the fundamentals for a while.",
                    "Good news for {assets} is welcome, but it is a reason to check your plan, not to abandon it.");
            case NEGATIVE -> List.of(
                    "News like this can weigh on {assets} for weeks, but one bad headline rarely changes the long-term picture.",
                    "This is a setback for {assets}, and the worst response is usually to sell in a hurry.",
                    "Headlines like this shake confidence in {assets}; ask whether your reasons for investing have changed, not just the price.",
                    "A drop on news like this hurts, yet weak spells in {assets} have often rewarded patient buyers.",
                    "Bad news for {assets} feels urgent, but acting on fear tends to lock in losses.");
            case MIXED -> List.of(
                    "The news is mixed for {assets}: there is something in it for optimists and pessimists alike.",
                    "This cuts both ways for {assets}, which is a good reason not to bet heavily in either direction.",
                    "It is hard to read this as clearly good or bad for {assets}, so it should not drive big decisions.",
                    "For {assets} this is more noise than signal, and noise is best met with patience.");
        };
    }

    static List<String> stageAndRisk(LifeStage stage, RiskTolerance risk) {
        return switch (stage) {
            case EARLY_CAREER -> switch (risk) {
                case AGGRESSIVE -> List.of(
                        "At {age}, with decades of investing ahead, you can ride out the swings in {assets}, so a growth-heavy portfolio suits you.",
                        "Your long horizon means short-term drops matter far less than staying invested and adding money every month.",
                        "Being {age} and comfortable with risk, you can hold more stocks than most, as long as no single bet can sink you.");
                case MODERATE -> List.of(
                        "At {age} time is on your side, so keep most of your money in a broad index fund and treat {assets} as a smaller side bet.",
                        "With many years ahead, a mostly-stock portfolio is fine for you, but spread it widely rather than leaning on {assets}.");
                case CONSERVATIVE -> List.of(
                        "Since you dislike big swings, a diversified fund gives you some exposure to {assets} without the stress of single stocks.",
                        "Even as a cautious investor, at {age} you can afford some stocks; start with a broad fund and add gradually.");
            };
            case MID_CAREER -> switch (risk) {
                case AGGRESSIVE -> List.of(
                        "At {age} you still have a long runway, so staying growth-oriented is reasonable, but cap any single theme at around ten percent.",
                        "Your appetite for risk fits your horizon, yet by {age} it pays to make sure one sector cannot undo years of saving.");
                case MODERATE -> List.of(
                        "At {age}, a balanced mix of roughly two-thirds stocks and one-third bonds keeps growth going while limiting the damage of a bad year.",
                        "A steady, balanced portfolio suits you better than reacting to every headline about {assets}.");
                case CONSERVATIVE -> List.of(
                        "Given your caution, keep {assets} to a small part of a portfolio anchored by bonds and broad funds.",
                        "At {age} and wary of losses, you will sleep better with a larger bond share and only measured exposure to {assets}.");
            };
            case PRE_RETIREMENT -> switch (risk) {
                case AGGRESSIVE -> List.of(
                        "With retirement about {to_retirement} away, it is time to lock in some gains from volatile holdings, even if you like risk.",
                        "You can keep some growth, but this close to retiring a deep fall in {assets} would leave little time to recover.");
                case MODERATE -> List.of(
                        "With retirement about {to_retirement} away, gradually shift gains into bonds and cash so a late crash cannot delay your plans.",
                        "At {age}, a sensible glide path moves a little more into bonds each year as retirement approaches.");
                case CONSERVATIVE -> List.of(
                        "So close to retirement, protect what you have built: keep {assets} small and build up bonds and cash for your first years of retirement.",
                        "At {age} and cautious, your priority is making sure a market fall cannot shrink the savings your retirement depends on.");
            };
            case RETIRED -> switch (risk) {
                case AGGRESSIVE -> List.of(
                        "Even with your appetite for risk, living off your savings means a deep fall in {assets} could force you to sell at the worst time.",
                        "You can keep some growth investments in retirement, but only with money you will not need for at least ten years.");
                case MODERATE -> List.of(
                        "Since you are drawing on your savings, keep two to three years of spending in cash and short-term bonds so you never have to sell {assets} in a slump.",
                        "In retirement, a balanced portfolio with a cash buffer lets you ride out news like this without changing your lifestyle.");
                case CONSERVATIVE -> List.of(
                        "As a retiree who needs stability, protect the income you live on first and keep {assets} to a minor role, if any.",
                        "In retirement, safety of the money you live on matters more than the gains {assets} might bring.");
            };
        };
    }

    /** For someone saving a deposit: the deposit itself is covered by the goal sentence, this is about the rest. */
    static List<String> beyondTheDeposit(RiskTolerance risk) {
        return switch (risk) {
            case AGGRESSIVE, MODERATE -> List.of(
                    "Money you will not need for the house can stay in a broad stock fund, where at {age} it has time to grow.",
                    "Anything beyond the deposit can be invested for the long term, since at {age} you can ride out swings in {assets}.");
            case CONSERVATIVE -> List.of(
                    "Beyond the deposit, a cautious mix of bonds and a broad fund suits your temperament better than {assets}.",
                    "Keep the house money and your long-term savings apart, and invest only the latter, gently, in broad funds.");
        };
    }

    static List<String> goal(Goal goal) {
        return switch (goal) {
            case GROW_WEALTH -> List.of(
                    "Keep adding money on a schedule; regular contributions matter more than any single headline.",
                    "Reinvest your dividends and let compounding do the heavy lifting over the years.",
                    "For long-term growth, low-cost index funds should stay the core of what you own.");
            case HOUSE_DEPOSIT -> List.of(
                    "The money for your home deposit, needed within {horizon}, belongs in a high-yield savings account or short-term Treasuries rather than in {assets}.",
                    "Because you need your deposit within {horizon}, keep that money out of the market entirely; a savings account or Treasury bills will do.");
            case CHILDREN_EDUCATION -> List.of(
                    "For the education fund, move money out of stocks gradually as the tuition bills get closer.",
                    "A tax-advantaged education account, invested more cautiously each year as college nears, fits your goal well.");
            case PASSIVE_INCOME -> List.of(
                    "For income, favour funds of companies that grow their dividends over the highest yields, which often signal trouble.",
                    "A mix of dividend funds and high-quality bonds produces steadier income than any single stock.");
            case RETIRE_COMFORTABLY -> List.of(
                    "Use these last working years to max out your retirement accounts, including the catch-up contributions allowed after 50.",
                    "Work out what income you will need in retirement now, so you know how much risk you actually have to take.");
            case RETIREMENT_INCOME -> List.of(
                    "Keep withdrawals to around four percent a year so your savings last as long as you do.",
                    "Take income from whatever has done best lately, and leave holdings that are down time to recover.");
        };
    }

    static List<String> caveats(NewsSentiment sentiment) {
        List<String> out = new ArrayList<>(List.of(
                "Bear in mind that even broad funds can fall by a third in a bad year, so only invest money you can leave alone.",
                "Keep in mind that a single company can lose half its value on one bad report, however good it looks today.",
                "The risk is that {assets} stay out of favour for years, so make sure you could live with that.",
                "No one knows where prices go next, and a plan that only works if they rise is not a plan."));
        if (sentiment == NewsSentiment.POSITIVE) out.add("The danger after good news is paying a price that already assumes everything goes right.");
        if (sentiment == NewsSentiment.NEGATIVE) out.add("Prices can keep falling after bad news, so buy in steps rather than trying to catch the bottom.");
        return out;
    }

    static List<String> closings(LifeStage stage) {
        List<String> any = List.of(
                "Review your mix once a year instead of after every headline.",
                "Decide in advance at what point you would trim, so the choice is not made in a panic.",
                "Write down why you own each holding; if the reason still stands, the news changes little.",
                "Rebalancing back to your target mix will sell what has run up and buy what has lagged.",
                "Check your fund fees too, since a lower cost is a return you can count on.",
                "Let the headline inform you, not instruct you.",
                "Spread any new money over a few months to soften the risk of buying at a peak.",
                "Keep an eye on the next few reports before drawing firm conclusions.",
                "A position you have to check every day is probably too big for you.",
                "If a move would keep you awake at night, it is too large a bet.",
                "Judge the news by what it does to earnings over years, not to the price this week.",
                "Set a target mix for each type of asset and only act when you drift well away from it.",
                "Tax-advantaged accounts are the best place for whatever you decide to buy.",
                "Selling after a sharp move often means paying tax and trading costs for nothing.",
                "Give any change you make a few days; quick decisions on headlines are rarely the best ones.",
                "Diversification will feel dull in a rally and priceless in a crash.",
                "Remember that many professionals fail to beat a plain index fund after fees.",
                "A plan you can stick with beats a clever one you abandon at the first drop.");
        List<String> working = List.of(
                "An emergency fund of three to six months of expenses keeps you from selling investments when life happens.",
                "Paying off high-interest debt first is a guaranteed return no investment can match.",
                "Automating your monthly contributions removes the temptation to time the market.");
        List<String> retired = List.of(
                "A yearly check of your withdrawal rate keeps your plan on track.",
                "Keeping your plan simple makes it easier to stick with when markets get rough.");
        List<String> out = new ArrayList<>(any);
        out.addAll(stage == LifeStage.RETIRED ? retired : working);
        return out;
    }
}
