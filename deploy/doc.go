// Package deploy holds the deployment samples (supervisor/queuebridge.conf, systemd/queuebridge.service)
// and the tests that run them: the supervisor sample under a real supervisord against Redis, the systemd
// unit parsed and its command run, and the READMEs and migration guides checked against the command line.
package deploy
