"""Self-play training: rollouts, advantage estimators, policy losses and the training loop."""
