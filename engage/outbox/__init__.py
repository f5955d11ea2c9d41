"""The outbox: messages are rows first (written with the change that caused them), sent later
by the dispatcher, the only code that calls a provider."""
