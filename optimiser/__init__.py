"""Hour-by-hour dispatch of a compute site: ASIC mining, GPU hosting, or power handed back."""
