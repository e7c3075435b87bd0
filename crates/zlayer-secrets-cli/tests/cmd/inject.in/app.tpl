# app.yaml, rendered by zlayer-secret inject
database:
  url: "postgres://app:{{ $S:db-password }}@127.0.0.1/app"
  user: {{$S:db/user}}
api_token: '{{ $secret://prod/api-token }}'
literal: \{{ $S:db-password }}
helm: {{ .Values.image }}
