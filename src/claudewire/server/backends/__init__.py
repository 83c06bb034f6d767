"""Generation backends behind one small interface (``base.Backend``), chosen by name."""
