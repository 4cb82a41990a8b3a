"""Results: tidy schedule, storage, carbon and KPIs, as pure functions of a solve."""
