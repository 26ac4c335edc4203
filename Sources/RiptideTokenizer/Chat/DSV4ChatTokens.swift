/// The fixed strings of the DeepSeek-V4 chat format: special tokens and prompt boilerplate.
///
/// The boilerplate texts are protocol constants: the model was trained on these exact bytes, so
/// they were cut out of DeepSeek's reference prompts (test vectors) and checked against the
/// SHA-256 hashes listed in shared/specs/dsv4-chat-encoding.md.
public enum DSV4ChatTokens {
    public static let bos = "<｜begin▁of▁sentence｜>"
    public static let eos = "<｜end▁of▁sentence｜>"
    public static let user = "<｜User｜>"
    public static let assistant = "<｜Assistant｜>"
    public static let thinkStart = "<think>"
    public static let thinkEnd = "</think>"
    /// The only special token inside DSML tool-call markup; the rest is ordinary text.
    public static let dsml = "｜DSML｜"
    public static let latestReminder = "<｜latest_reminder｜>"

    /// `"\n\n<｜DSML｜tool_calls"`: where tool calls start in a completion.
    public static let toolCallsStart = "\n\n<｜DSML｜tool_calls"
    public static let toolCallsEnd = "</｜DSML｜tool_calls>"
}

enum DSV4PromptText {
    /// Put before message 0 in thinking mode with `reasoning_effort: max` (476 characters,
    /// SHA-256 f7a24f3b…50f7).
    static let maxEffortPreamble = """
        Reasoning Effort: Absolute maximum with no shortcuts permitted.
        You MUST be very thorough in your thinking and comprehensively decompose the problem to resolve the root cause, rigorously stress-testing your logic against all potential paths, edge cases, and adversarial scenarios.
        Explicitly write out your entire deliberation process, documenting every intermediate step, considered alternative, and rejected hypothesis to ensure absolutely no assumption is left unchecked.


        """

    /// Opens the tool block; the schemas follow, one JSON object per line (854 characters,
    /// SHA-256 c7c90426…329c).
    static let toolsPrefix = """
        ## Tools

        You have access to a set of tools to help answer the user's question. You can invoke tools by writing a "<｜DSML｜tool_calls>" block like the following:

        <｜DSML｜tool_calls>
        <｜DSML｜invoke name="$TOOL_NAME">
        <｜DSML｜parameter name="$PARAMETER_NAME" string="true|false">$PARAMETER_VALUE</｜DSML｜parameter>
        ...
        </｜DSML｜invoke>
        <｜DSML｜invoke name="$TOOL_NAME2">
        ...
        </｜DSML｜invoke>
        </｜DSML｜tool_calls>

        String parameters should be specified as is and set `string="true"`. For all other types (numbers, booleans, arrays, objects), pass the value in JSON format and set `string="false"`.

        If thinking_mode is enabled (triggered by <think>), you MUST output your complete reasoning inside <think>...</think> BEFORE any tool calls or final response.

        Otherwise, output directly after </think> with tool calls or final response.

        ### Available Tool Schemas


        """

    /// Closes the tool block (99 characters, SHA-256 69070285…75fb5a7).
    static let toolsSuffix = """


        You MUST strictly follow the above defined tool name and parameter schemas to invoke tool calls.

        """

    static let responseFormatHeader =
        "## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n"
}
