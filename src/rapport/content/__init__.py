"""Content: templates with versions, the sandboxed personalisation language, recommendations
from purchase history and coupons."""
