x: {{ $S:db-password }}
y: {{ $S:missing }}
