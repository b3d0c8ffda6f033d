package dev.finadvisor.domain.util;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.util.Locale;

/** What went wrong reading JSON, in one line: Jackson's own message puts the location on a second line. */
public final class JsonErrors {
    private JsonErrors() {}

    /** The parser's message and where ("at line 3, column 7"), or an I/O error's message, on one line. */
    public static String describe(IOException e) {
        if (e instanceof JsonProcessingException j) {
            JsonLocation at = j.getLocation();
            String where = at == null || at.getLineNr() < 0 ? "" : String.format(Locale.ROOT, " at line %d, column %d", at.getLineNr(), at.getColumnNr());
            return j.getOriginalMessage().replaceAll("\\s*\\R\\s*", " ") + where;
        }
        return String.valueOf(e.getMessage()).replaceAll("\\s*\\R\\s*", " ");
    }
}
