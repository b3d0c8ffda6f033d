package dev.finadvisor.feature.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;

/** Alpaca news objects for tests, shaped as the REST API and the stream send them. */
public final class Articles {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Topics far apart in meaning, so a search for one finds its own article first. */
    public static final List<String[]> TOPICS = List.of(
            new String[] {"Tesla recalls two million cars over Autopilot defect", "The electric carmaker will update driver-assistance software on vehicles sold in the United States after a safety regulator found the system could be misused.", "electric car recall driver assistance safety"},
            new String[] {"Federal Reserve raises interest rates by a quarter point", "The central bank lifted its benchmark rate to fight inflation and signalled more tightening could come.", "central bank interest rate hike inflation"},
            new String[] {"Oil prices jump after OPEC agrees deep production cuts", "Brent crude climbed as the cartel and its allies said they would pump less oil next year.", "crude oil supply cut by producers"},
            new String[] {"Apple unveils new iPhone with faster chip and better camera", "The smartphone maker showed its latest handsets at its autumn launch event in Cupertino.", "new smartphone launch event"},
            new String[] {"Bitcoin tops record as spot ETF inflows accelerate", "The largest cryptocurrency rallied after exchange-traded funds holding the coin drew billions of dollars.", "cryptocurrency price rally exchange-traded funds"},
            new String[] {"Pfizer wins approval for RSV vaccine for older adults", "Regulators cleared the drugmaker's shot against respiratory syncytial virus for people over sixty.", "vaccine approval by health regulators"},
            new String[] {"Boeing delays 777X deliveries again after engine issue", "The planemaker pushed back first deliveries of its new widebody jet to next year after finding a problem with a thrust link.", "aircraft delivery delay for airlines"},
            new String[] {"Walmart raises full-year outlook as shoppers seek bargains", "The retailer said grocery sales and online orders grew as households hunted for low prices.", "retail sales forecast supermarket shoppers"});

    private Articles() {}

    public static ObjectNode article(long id, Instant createdAt, String headline, String summary, String html, String... symbols) {
        ObjectNode a = JSON.createObjectNode();
        a.put("id", id);
        a.put("headline", headline);
        a.put("summary", summary);
        a.put("author", "Test Reporter");
        a.put("created_at", createdAt.toString());
        a.put("updated_at", createdAt.toString());
        a.put("url", "https://news.example.com/" + id);
        a.put("content", html);
        var s = a.putArray("symbols");
        for (String sym : symbols) s.add(sym);
        a.put("source", "benzinga");
        return a;
    }

    /** Article {@code id} on topic {@code topic % TOPICS.size()}, with a few paragraphs of HTML body. */
    public static ObjectNode onTopic(long id, int topic, Instant createdAt) {
        String[] t = TOPICS.get(topic % TOPICS.size());
        String html = "<p>" + t[1] + "</p><p>Analysts said the news was important for " + t[2] + ".</p>"
                + "<div class=\"share-bar\">Share on Twitter</div><script>track()</script>";
        return article(id, createdAt, t[0], t[1], html, "SYM" + topic);
    }

    /** An updated version of an article: newer updated_at, new headline and body. */
    public static ObjectNode updated(ObjectNode original, Instant updatedAt, String html) {
        ObjectNode a = original.deepCopy();
        a.put("updated_at", updatedAt.toString());
        a.put("content", html);
        return a;
    }
}
