package dev.finadvisor.domain;

/**
 * An error caused by what the user gave (a file, an option, a record): its message alone tells
 * what was wrong, where, and what to do, so the command line prints it without a stack trace.
 */
public class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
