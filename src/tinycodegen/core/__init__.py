"""What every family shares: the IR base, float bits, numerics, ddot, quantized inputs,
preprocessing, the C source helpers, the double guard and the C runtime."""
