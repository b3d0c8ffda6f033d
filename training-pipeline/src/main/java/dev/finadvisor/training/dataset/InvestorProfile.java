package dev.finadvisor.training.dataset;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A made-up but coherent investor: an age, a job, how much risk they accept, what they save for
 * and by when. Goals only go to ages they fit (no one under 55 saves for retirement income),
 * which keeps the advice written for them sensible.
 */
public record InvestorProfile(int age, String occupation, RiskTolerance risk, Goal goal, int horizonYears) {

    /** Where in life the investor is; retiree advice is only for the last two. */
    public enum LifeStage {
        EARLY_CAREER, MID_CAREER, PRE_RETIREMENT, RETIRED;

        public static LifeStage of(int age) {
            return age < 35 ? EARLY_CAREER : age < 55 ? MID_CAREER : age < 65 ? PRE_RETIREMENT : RETIRED;
        }

        public boolean nearOrInRetirement() {
            return this == PRE_RETIREMENT || this == RETIRED;
        }
    }

    /** How much the investor's savings may swing. */
    public enum RiskTolerance { CONSERVATIVE, MODERATE, AGGRESSIVE }

    /** What the investor is saving for. */
    public enum Goal {
        GROW_WEALTH, HOUSE_DEPOSIT, CHILDREN_EDUCATION, PASSIVE_INCOME, RETIRE_COMFORTABLY, RETIREMENT_INCOME;

        /** Goals that make sense at a life stage. */
        static List<Goal> fitting(LifeStage stage) {
            return switch (stage) {
                case EARLY_CAREER -> List.of(GROW_WEALTH, GROW_WEALTH, HOUSE_DEPOSIT, PASSIVE_INCOME);
                case MID_CAREER -> List.of(GROW_WEALTH, CHILDREN_EDUCATION, HOUSE_DEPOSIT, PASSIVE_INCOME);
                case PRE_RETIREMENT -> List.of(RETIRE_COMFORTABLY, RETIRE_COMFORTABLY, PASSIVE_INCOME, GROW_WEALTH);
                case RETIRED -> List.of(RETIREMENT_INCOME, RETIREMENT_INCOME, PASSIVE_INCOME);
            };
        }
    }

    private static final List<String> EARLY_JOBS = List.of("software engineer", "nurse", "teacher", "graphic designer",
            "electrician", "marketing analyst", "PhD student", "accountant", "data scientist", "barista saving hard",
            "civil engineer", "junior lawyer", "pharmacist", "product manager", "freelance photographer");
    private static final List<String> MID_JOBS = List.of("software architect", "doctor", "small business owner", "sales manager",
            "high school teacher", "nurse practitioner", "project manager", "dentist", "restaurant owner", "police officer",
            "financial controller", "airline pilot", "architect", "consultant", "truck driver");
    private static final List<String> RETIRED_JOBS = List.of("retired teacher", "retired engineer", "retired nurse",
            "retired shop owner", "retired civil servant", "retired accountant", "retired army officer", "retired farmer");

    public InvestorProfile {
        if (age < 18 || age > 95) throw new IllegalArgumentException("age " + age + " outside 18..95");
        if (horizonYears < 1) throw new IllegalArgumentException("horizon must be at least a year, is " + horizonYears);
        LifeStage stage = LifeStage.of(age);
        if (!Goal.fitting(stage).contains(goal)) {
            throw new IllegalArgumentException("goal " + goal + " does not fit a " + age + "-year-old (" + stage + ")");
        }
    }

    public LifeStage stage() {
        return LifeStage.of(age);
    }

    /** A random coherent profile: age first, then a job, goal, risk and horizon that fit it. */
    static InvestorProfile random(SplittableRandom r) {
        int age = switch (r.nextInt(4)) {
            case 0 -> 22 + r.nextInt(13);
            case 1 -> 35 + r.nextInt(20);
            case 2 -> 55 + r.nextInt(10);
            default -> 65 + r.nextInt(16);
        };
        LifeStage stage = LifeStage.of(age);
        String job = switch (stage) {
            case EARLY_CAREER -> pick(r, EARLY_JOBS);
            case MID_CAREER -> pick(r, MID_JOBS);
            case PRE_RETIREMENT -> pick(r, r.nextBoolean() ? MID_JOBS : EARLY_JOBS);
            case RETIRED -> pick(r, RETIRED_JOBS);
        };
        Goal goal = pick(r, Goal.fitting(stage));
        // Younger investors lean aggressive, older ones cautious, but every mix occurs.
        int roll = r.nextInt(100);
        int aggressive = switch (stage) { case EARLY_CAREER -> 45; case MID_CAREER -> 30; case PRE_RETIREMENT -> 15; case RETIRED -> 5; };
        int conservative = switch (stage) { case EARLY_CAREER -> 20; case MID_CAREER -> 25; case PRE_RETIREMENT -> 40; case RETIRED -> 60; };
        RiskTolerance risk = roll < aggressive ? RiskTolerance.AGGRESSIVE
                : roll < aggressive + conservative ? RiskTolerance.CONSERVATIVE : RiskTolerance.MODERATE;
        if (goal == Goal.HOUSE_DEPOSIT && risk == RiskTolerance.AGGRESSIVE && r.nextBoolean()) risk = RiskTolerance.MODERATE;
        int horizon = switch (goal) {
            case HOUSE_DEPOSIT -> 1 + r.nextInt(5);
            case CHILDREN_EDUCATION -> 3 + r.nextInt(13);
            case RETIRE_COMFORTABLY -> Math.max(1, 65 - age + r.nextInt(3));
            case RETIREMENT_INCOME -> 15 + r.nextInt(11);
            case GROW_WEALTH, PASSIVE_INCOME -> Math.max(5, 65 - age);
        };
        return new InvestorProfile(age, job, risk, goal, horizon);
    }

    /** The course's {@code about_me}: who they are, then what they want, on two lines. */
    String aboutMe(SplittableRandom r) {
        String who = switch (r.nextInt(3)) {
            case 0 -> "I'm a " + age + " year old " + occupation + ".";
            // a retiree no longer works as one
            case 1 -> "I'm " + age + (occupation.startsWith("retired") ? " and " : " and work as ") + article(occupation) + " " + occupation + ".";
            default -> "I am " + article(occupation) + " " + occupation + ", " + age + " years old.";
        };
        return who + situation(r) + "\n" + want(r);
    }

    /** Sometimes a line about their circumstances, one that fits their stage of life. */
    private String situation(SplittableRandom r) {
        if (r.nextInt(100) >= 40) return "";
        List<String> any = List.of("I have no debt apart from my mortgage.", "I keep an emergency fund in a savings account.",
                "Most of my savings sit in index funds.", "I'm new to investing.", "I've been investing for a few years.");
        List<String> stage = switch (stage()) {
            case EARLY_CAREER -> List.of("I'm single and rent my flat.", "I still have some student loans.", "My partner and I both work full time.");
            case MID_CAREER -> List.of("I have two young children.", "My partner and I both work full time.", "I have a teenage daughter.");
            case PRE_RETIREMENT -> List.of("My children have left home.", "I own my home outright.", "My partner retires next year.");
            case RETIRED -> List.of("I own my home outright.", "I also get a small pension.", "I help my grandchildren with their studies.");
        };
        String line = r.nextBoolean() ? pick(r, any) : pick(r, stage);
        if (age >= 55 && line.equals("I'm new to investing.")) line = "I've invested for most of my life.";
        return " " + line;
    }

    private String want(SplittableRandom r) {
        String attitude = switch (risk) {
            case AGGRESSIVE -> pick(r, List.of("I'm comfortable with big swings", "I have a high tolerance for risk",
                    "I don't mind volatility"));
            case MODERATE -> pick(r, List.of("I can accept some ups and downs", "I take a balanced approach to risk",
                    "I want growth but not at any cost"));
            case CONSERVATIVE -> pick(r, List.of("I hate losing money", "I prefer safe investments",
                    "I'm a cautious investor"));
        };
        String aim = switch (goal) {
            case GROW_WEALTH -> pick(r, age < 45
                    ? List.of("I want to grow my wealth over the long term", "I'm investing my savings for long-term growth",
                            "I want my money to compound for decades")
                    : List.of("I want to grow my wealth over the long term", "I'm investing my savings for long-term growth",
                            "I want my savings to keep growing"));
            case HOUSE_DEPOSIT -> pick(r, List.of("I'm saving for a house deposit in the next " + years(horizonYears),
                    "I want to buy my first home within " + years(horizonYears)));
            case CHILDREN_EDUCATION -> pick(r, List.of("I'm saving for my children's college, " + years(horizonYears) + " away",
                    "I want to fund my kids' education in about " + years(horizonYears)));
            case PASSIVE_INCOME -> pick(r, List.of("I want my investments to pay me a steady income",
                    "I'm building a portfolio that generates passive income"));
            case RETIRE_COMFORTABLY -> pick(r, List.of("I plan to retire in about " + years(horizonYears),
                    "I want to make sure I can retire comfortably in " + years(horizonYears)));
            case RETIREMENT_INCOME -> pick(r, List.of("I live off my savings and pension",
                    "I need my portfolio to fund my retirement"));
        };
        return r.nextBoolean() ? attitude + " and " + lower(aim) + "." : aim + ", and " + lower(attitude) + ".";
    }

    /** The profile as extra fields of a generated sample, so what the advice was written for stays visible. */
    Map<String, Object> asFields() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("age", age);
        m.put("risk", risk.name().toLowerCase(Locale.ROOT));
        m.put("goal", goal.name().toLowerCase(Locale.ROOT));
        m.put("horizon_years", horizonYears);
        return m;
    }

    static String years(int n) {
        return n == 1 ? "a year" : n + " years";
    }

    static String article(String noun) {
        return "aeiouAEIOU".indexOf(noun.charAt(0)) >= 0 ? "an" : "a";
    }

    private static String lower(String s) {
        // "I" stays capital; other sentence starts become lower case mid-sentence.
        return s.startsWith("I ") || s.startsWith("I'") ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    static <T> T pick(SplittableRandom r, List<T> list) {
        return list.get(r.nextInt(list.size()));
    }
}
