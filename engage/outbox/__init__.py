"""The outbox: messages are rows first, written with the change that caused them.

Here: writing and placing them (channel choice, quiet hours, caps), the retry schedule, the
senders' rate limits and the channel port. Claiming and recording sends is a service
(`engage.services.claims`, `engage.services.send_results`); `engage.dispatcher` drives them and is
the only code that calls a provider.
"""
