module github.com/regalkit/regalkit

go 1.26
