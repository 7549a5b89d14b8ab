"""Training domain: POST /plan/training (fine-tuning and training runs: managed offers against self-hosted GPUs).

Public surface: ``plan_training``."""

from costplan.services.training.estimate import plan_training

__all__ = ["plan_training"]
