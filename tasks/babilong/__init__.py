"""BABILong (booydar/babilong): bAbI facts hidden in PG-19 haystacks, at published lengths 0k to 128k and beyond."""
