// Package event defines the source-neutral message regalkit processes and the event
// record kept on a contact.
package event
