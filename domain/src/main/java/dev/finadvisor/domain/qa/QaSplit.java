package dev.finadvisor.domain.qa;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A reproducible train/validation split. Samples that are duplicates of each other
 * ({@link QaDuplicates#key}) always land on the same side, so validation never scores the model
 * on a question it trained on. Each side keeps the file's order.
 */
public record QaSplit(List<QaSample> train, List<QaSample> validation) {
    public QaSplit {
        train = List.copyOf(train);
        validation = List.copyOf(validation);
    }

    /**
     * Puts about {@code validationFraction} of the samples into validation (at least one, and at
     * least one left for training, when there are two or more), chosen by {@code seed}.
     */
    public static QaSplit of(List<QaSample> samples, double validationFraction, long seed) {
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in [0, 1), is " + validationFraction);
        }
        Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < samples.size(); i++) groups.computeIfAbsent(QaDuplicates.key(samples.get(i)), k -> new ArrayList<>()).add(i);
        List<List<Integer>> order = new ArrayList<>(groups.values());
        Collections.shuffle(order, new Random(seed));

        int target = (int) Math.round(validationFraction * samples.size());
        if (validationFraction > 0 && target == 0 && samples.size() >= 2) target = 1;
        boolean[] inValidation = new boolean[samples.size()];
        int taken = 0;
        for (List<Integer> group : order) {
            if (taken >= target) break;
            // Keep at least one group for training.
            if (taken + group.size() >= samples.size()) continue;
            for (int i : group) inValidation[i] = true;
            taken += group.size();
        }
        List<QaSample> train = new ArrayList<>();
        List<QaSample> validation = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) (inValidation[i] ? validation : train).add(samples.get(i));
        return new QaSplit(train, validation);
    }
}
