"""Model families: one folder each (loader, IR with reference, emitters, quantizer or refusal)."""
