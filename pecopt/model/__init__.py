"""The Pyomo model: the technology interface (:mod:`pecopt.model.technology`), the registry
of technologies (:mod:`pecopt.model.registry`), one block per technology
(:mod:`pecopt.model.blocks`), the core (bus balances, targets, objective stages) and the
named edits of a built model (:mod:`pecopt.model.transforms`)."""
