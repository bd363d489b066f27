"""One package per vendor API. Vendor names live only inside their package; dialects never import each other."""
