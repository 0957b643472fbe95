"""The customer database: contacts, companies, products, orders, custom fields, the timeline."""
