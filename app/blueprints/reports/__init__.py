"""Reports for moderators and administrators: tickets created and closed, backlog, response times, ratings."""
