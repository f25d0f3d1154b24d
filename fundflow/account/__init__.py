"""Every signed-in person's own pages: their messages, how they are told by email, and a
private calendar feed of their due dates and decisions."""
