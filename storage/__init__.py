"""Engine, sessions, unit of work, repositories, migrations and adapters to the outside (SMTP, files)."""
