"""Administration: catalog (moderators and admins), employees, teams and organisation (admins)."""
