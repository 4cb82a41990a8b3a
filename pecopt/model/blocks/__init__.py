"""One block builder per technology; see :mod:`pecopt.model.registry`."""
