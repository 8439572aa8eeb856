// Stack buffers (stackalloc) are always written before they are read; zeroing them is wasted work on the hot path.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
