"""Campaign reports, the dashboard's engagement figures, and the rollups behind them."""
