/// The OpenAPI 3.0 description of the API, served at `/openapi.json` (schemathesis runs against
/// it). Kept as a string literal so the document ships inside the binary; edit it here.
enum OpenAPIDocument {
    static let json = #"""
{
 "openapi": "3.0.3",
 "info": {
  "title": "Riptide",
  "version": "0.1.0",
  "description": "OpenAI-compatible and SGLang-compatible serving API of `riptide serve` (DeepSeek-V4). Chat requests run in thinking mode unless they turn it off."
 },
 "paths": {
  "/v1/chat/completions": {
   "post": {
    "operationId": "createChatCompletion",
    "requestBody": {
     "required": true,
     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletionRequest"}}}
    },
    "responses": {
     "200": {"description": "A completion, or an SSE stream of chunks when stream is true", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletionResponse"}}, "text/event-stream": {"schema": {"type": "string"}}}},
     "400": {"description": "Invalid request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "401": {"description": "Missing or wrong API key (with --api-key)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "404": {"description": "Unknown model", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "413": {"description": "Request body too large", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "429": {"description": "Waiting queue full", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "503": {"description": "Server draining", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    }
   }
  },
  "/v1/completions": {
   "post": {
    "operationId": "createCompletion",
    "requestBody": {
     "required": true,
     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompletionRequest"}}}
    },
    "responses": {
     "200": {"description": "A completion, or an SSE stream of chunks when stream is true", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompletionResponse"}}, "text/event-stream": {"schema": {"type": "string"}}}},
     "400": {"description": "Invalid request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "401": {"description": "Missing or wrong API key (with --api-key)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "404": {"description": "Unknown model", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "413": {"description": "Request body too large", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "429": {"description": "Waiting queue full", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "503": {"description": "Server draining", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    }
   }
  },
  "/v1/models": {
   "get": {
    "operationId": "listModels",
    "responses": {
     "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
     "401": {"description": "Missing or wrong API key (with --api-key)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    }
   }
  },
  "/v1/models/{model}": {
   "get": {
    "operationId": "retrieveModel",
    "parameters": [
     {"name": "model", "in": "path", "required": true, "schema": {"type": "string"}}
    ],
    "responses": {
     "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
     "401": {"description": "Missing or wrong API key (with --api-key)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "404": {"description": "Unknown model", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    }
   }
  },
  "/health": {
   "get": {
    "operationId": "health",
    "responses": {
     "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}},
     "503": {"description": "Draining, or the scheduler is stuck", "content": {"text/plain": {"schema": {"type": "string"}}}}
    }
   }
  },
  "/health_generate": {
   "get": {
    "operationId": "healthGenerate",
    "responses": {
     "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}},
     "503": {"description": "Draining, or the scheduler is stuck", "content": {"text/plain": {"schema": {"type": "string"}}}}
    }
   }
  },
  "/metrics": {
   "get": {
    "operationId": "metrics",
    "responses": {
     "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}
    }
   }
  },
  "/generate": {
   "post": {
    "operationId": "generate",
    "requestBody": {
     "required": true,
     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GenerateRequest"}}}
    },
    "responses": {
     "200": {"description": "A result (a list for a batch or n > 1), or an SSE stream", "content": {"application/json": {"schema": {"type": "object"}}, "text/event-stream": {"schema": {"type": "string"}}}},
     "400": {"description": "Invalid request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "401": {"description": "Missing or wrong API key (with --api-key)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "404": {"description": "Unknown model", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "413": {"description": "Request body too large", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "429": {"description": "Waiting queue full", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "503": {"description": "Server draining", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    }
   }
  },
  "/abort_request": {
   "post": {
    "operationId": "abortRequest",
    "requestBody": {
     "required": true,
     "content": {"application/json": {"schema": {"type": "object", "properties": {"rid": {"type": "string"}, "abort_all": {"type": "boolean"}}}}}
    },
    "responses": {
     "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}},
     "400": {"description": "Invalid request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "401": {"description": "Missing or wrong API key (with --api-key)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
     "413": {"description": "Request body too large", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    }
   }
  },
  "/flush_cache": {
   "post": {
    "operationId": "flushCache",
    "responses": {
     "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}},
     "400": {"description": "Requests are running", "content": {"text/plain": {"schema": {"type": "string"}}}},
     "401": {"description": "Missing or wrong API key (with --api-key)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    }
   }
  },
  "/get_model_info": {
   "get": {
    "operationId": "getModelInfo",
    "responses": {
     "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
     "401": {"description": "Missing or wrong API key (with --api-key)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    }
   }
  },
  "/get_server_info": {
   "get": {
    "operationId": "getServerInfo",
    "responses": {
     "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
     "401": {"description": "Missing or wrong API key (with --api-key)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    }
   }
  },
  "/version": {
   "get": {
    "operationId": "version",
    "responses": {
     "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    }
   }
  }
 },
 "components": {
  "schemas": {
   "ChatCompletionRequest": {
    "type": "object",
    "required": [
     "messages"
    ],
    "properties": {
     "model": {"type": "string"},
     "messages": {"type": "array", "minItems": 1, "items": {"oneOf": [{"type": "object", "required": ["role", "content"], "properties": {"role": {"type": "string", "enum": ["system", "developer", "user"]}, "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object", "required": ["type", "text"], "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}}}}]}, "name": {"type": "string"}}}, {"type": "object", "required": ["role"], "properties": {"role": {"type": "string", "enum": ["assistant"]}, "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object", "required": ["type", "text"], "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}}}}], "nullable": true}, "reasoning_content": {"type": "string", "nullable": true}, "tool_calls": {"type": "array", "items": {"type": "object", "required": ["id", "function"], "properties": {"id": {"type": "string", "minLength": 1}, "type": {"type": "string", "enum": ["function"]}, "function": {"type": "object", "required": ["name", "arguments"], "properties": {"name": {"type": "string"}, "arguments": {"type": "string", "description": "JSON-encoded object"}}}}}}, "name": {"type": "string"}}}, {"type": "object", "required": ["role", "tool_call_id", "content"], "properties": {"role": {"type": "string", "enum": ["tool"]}, "tool_call_id": {"type": "string", "minLength": 1}, "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object", "required": ["type", "text"], "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}}}}]}}}]}},
     "stream": {"type": "boolean"},
     "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}, "continuous_usage_stats": {"type": "boolean"}}},
     "max_tokens": {"type": "integer", "minimum": 1, "nullable": true},
     "max_completion_tokens": {"type": "integer", "minimum": 1, "nullable": true},
     "logprobs": {"type": "boolean"},
     "top_logprobs": {"type": "integer", "minimum": 0, "maximum": 20},
     "tools": {"type": "array", "items": {"type": "object", "required": ["type", "function"], "properties": {"type": {"type": "string", "enum": ["function"]}, "function": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "description": {"type": "string"}, "parameters": {"type": "object"}, "strict": {"type": "boolean"}}}}}},
     "tool_choice": {"oneOf": [{"type": "string", "enum": ["none", "auto", "required"]}, {"type": "object", "required": ["type", "function"], "properties": {"type": {"type": "string", "enum": ["function"]}, "function": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}]},
     "parallel_tool_calls": {"type": "boolean"},
     "response_format": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string", "enum": ["text", "json_object", "json_schema"]}, "json_schema": {"type": "object"}}},
     "thinking": {"type": "object", "properties": {"type": {"type": "string", "enum": ["enabled", "disabled"]}}, "description": "DeepSeek API thinking toggle"},
     "reasoning_effort": {"type": "string", "enum": ["none", "minimal", "low", "medium", "high", "xhigh", "max"], "description": "any value but none turns thinking on; low/medium/high run as high, xhigh/max as max"},
     "chat_template_kwargs": {"type": "object", "properties": {"thinking": {"type": "boolean"}, "enable_thinking": {"type": "boolean"}, "drop_thinking": {"type": "boolean"}, "reasoning_effort": {"type": "string"}}},
     "user": {"type": "string"},
     "temperature": {"type": "number", "minimum": 0, "maximum": 100},
     "top_p": {"type": "number", "maximum": 1, "minimum": 0, "exclusiveMinimum": true},
     "top_k": {"type": "integer", "minimum": -1, "description": "-1 or 0: off"},
     "min_p": {"type": "number", "minimum": 0, "maximum": 1},
     "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2},
     "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2},
     "repetition_penalty": {"type": "number", "maximum": 10, "minimum": 0, "exclusiveMinimum": true},
     "logit_bias": {"type": "object", "additionalProperties": {"type": "number", "minimum": -100, "maximum": 100}, "description": "token id (as a string) to bias"},
     "seed": {"type": "integer"},
     "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 32}], "nullable": true},
     "stop_token_ids": {"type": "array", "items": {"type": "integer", "minimum": 0}},
     "ignore_eos": {"type": "boolean"},
     "skip_special_tokens": {"type": "boolean"},
     "n": {"type": "integer", "minimum": 1, "maximum": 64}
    }
   },
   "CompletionRequest": {
    "type": "object",
    "required": [
     "prompt"
    ],
    "properties": {
     "model": {"type": "string"},
     "prompt": {"oneOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0}}, {"type": "array", "minItems": 1, "items": {"type": "string"}}, {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0}}}]},
     "max_tokens": {"type": "integer", "minimum": 1},
     "stream": {"type": "boolean"},
     "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}, "continuous_usage_stats": {"type": "boolean"}}},
     "logprobs": {"type": "integer", "minimum": 0, "maximum": 20, "nullable": true},
     "echo": {"type": "boolean", "enum": [false]},
     "best_of": {"type": "integer", "minimum": 1},
     "user": {"type": "string"},
     "temperature": {"type": "number", "minimum": 0, "maximum": 100},
     "top_p": {"type": "number", "maximum": 1, "minimum": 0, "exclusiveMinimum": true},
     "top_k": {"type": "integer", "minimum": -1, "description": "-1 or 0: off"},
     "min_p": {"type": "number", "minimum": 0, "maximum": 1},
     "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2},
     "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2},
     "repetition_penalty": {"type": "number", "maximum": 10, "minimum": 0, "exclusiveMinimum": true},
     "logit_bias": {"type": "object", "additionalProperties": {"type": "number", "minimum": -100, "maximum": 100}, "description": "token id (as a string) to bias"},
     "seed": {"type": "integer"},
     "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 32}], "nullable": true},
     "stop_token_ids": {"type": "array", "items": {"type": "integer", "minimum": 0}},
     "ignore_eos": {"type": "boolean"},
     "skip_special_tokens": {"type": "boolean"},
     "n": {"type": "integer", "minimum": 1, "maximum": 64}
    }
   },
   "GenerateRequest": {
    "type": "object",
    "properties": {
     "text": {"oneOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "string"}}]},
     "input_ids": {"oneOf": [{"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0}}, {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0}}}]},
     "sampling_params": {"type": "object", "properties": {"max_new_tokens": {"type": "integer", "minimum": 0}, "temperature": {"type": "number", "minimum": 0, "maximum": 100}, "top_p": {"type": "number", "maximum": 1, "minimum": 0, "exclusiveMinimum": true}, "top_k": {"type": "integer", "minimum": -1, "description": "-1 or 0: off"}, "min_p": {"type": "number", "minimum": 0, "maximum": 1}, "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2}, "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2}, "repetition_penalty": {"type": "number", "maximum": 10, "minimum": 0, "exclusiveMinimum": true}, "logit_bias": {"type": "object", "additionalProperties": {"type": "number", "minimum": -100, "maximum": 100}, "description": "token id (as a string) to bias"}, "seed": {"type": "integer"}, "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 32}], "nullable": true}, "stop_token_ids": {"type": "array", "items": {"type": "integer", "minimum": 0}}, "ignore_eos": {"type": "boolean"}, "skip_special_tokens": {"type": "boolean"}, "n": {"type": "integer", "minimum": 1, "maximum": 64}}},
     "stream": {"type": "boolean"},
     "return_logprob": {"type": "boolean"},
     "top_logprobs_num": {"type": "integer", "minimum": 0, "maximum": 20},
     "rid": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    }
   },
   "ChatCompletionResponse": {
    "type": "object",
    "required": [
     "id",
     "object",
     "choices"
    ],
    "properties": {
     "id": {"type": "string"},
     "object": {"type": "string"},
     "created": {"type": "integer"},
     "model": {"type": "string"},
     "choices": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "message": {"type": "object"}, "logprobs": {}, "finish_reason": {"type": "string", "enum": ["stop", "length", "tool_calls", "abort"]}}}},
     "usage": {"$ref": "#/components/schemas/Usage"}
    }
   },
   "CompletionResponse": {
    "type": "object",
    "required": [
     "id",
     "object",
     "choices"
    ],
    "properties": {
     "id": {"type": "string"},
     "object": {"type": "string"},
     "created": {"type": "integer"},
     "model": {"type": "string"},
     "choices": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "text": {"type": "string"}, "logprobs": {}, "finish_reason": {"type": "string", "enum": ["stop", "length", "abort"]}}}},
     "usage": {"$ref": "#/components/schemas/Usage"}
    }
   },
   "Usage": {
    "type": "object",
    "properties": {
     "prompt_tokens": {"type": "integer"},
     "completion_tokens": {"type": "integer"},
     "total_tokens": {"type": "integer"},
     "prompt_tokens_details": {"type": "object", "properties": {"cached_tokens": {"type": "integer"}}},
     "completion_tokens_details": {"type": "object", "properties": {"reasoning_tokens": {"type": "integer"}}}
    }
   },
   "ErrorResponse": {
    "type": "object",
    "required": [
     "error"
    ],
    "properties": {
     "error": {"type": "object", "required": ["message", "type"], "properties": {"message": {"type": "string"}, "type": {"type": "string"}, "param": {"type": "string", "nullable": true}, "code": {"type": "string", "nullable": true}}}
    }
   }
  }
 }
}
"""#
}
