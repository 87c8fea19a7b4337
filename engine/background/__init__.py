"""Work nobody waits for: firing due timers and service attempts (timers), SLA warnings and 督办 (sla), e-mail
copies of notices (mail), and the Celery app of the scale-out mode (jobs).

May import every layer below it.
"""
