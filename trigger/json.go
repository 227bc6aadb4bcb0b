package trigger

import (
	"strconv"

	"github.com/regalkit/regalkit/internal/jsonvalue"
)

func jsonString(s string) []byte { return jsonvalue.AppendString(nil, s) }

func jsonInt(n int) []byte { return strconv.AppendInt(nil, int64(n), 10) }
