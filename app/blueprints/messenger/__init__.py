"""The ticket messenger: thread, composer, voice messages, assistant links and video sessions."""
