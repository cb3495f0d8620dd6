"""Customer communications: messages written with the change that causes them (a transactional
outbox), timed jobs (reminders, lapses, survey invitations), and the worker that delivers them."""
