package report

// Build returns the daily report.
func Build() string { return "ledger report" }
