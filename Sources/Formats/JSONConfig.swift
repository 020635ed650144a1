import Foundation

/// A config that checks its own values once decoded. `JSONConfig.load/decode` call
/// `validate(file:)` right after decoding, so every loader and `photoverse inspect` run the
/// same checks.
public protocol ValidatedConfig {
    /// Throws a one-line error naming `file`, the key and the allowed range or the reason
    /// (`FormatError` with problem `.invalidConfig`, see `ConfigRules`).
    func validate(file: String) throws
}

/// Loads JSON configuration files (diffusers/transformers `config.json` style) into
/// Decodable structs, with one-line errors that name the file and the key.
public enum JSONConfig {
    /// A config file larger than this is not a config (configs are kilobytes).
    public static let maxFileSize = 16 << 20

    /// The decoder for configs with snake_case keys (diffusers', this project's converters').
    public static func snakeCaseDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    public static func load<Config: Decodable>(_ type: Config.Type = Config.self, from url: URL,
                                               decoder: JSONDecoder = JSONDecoder()) throws -> Config {
        let data = try RegularFile.read(url, limit: maxFileSize)
        return try decode(type, from: data, file: url.path, decoder: decoder)
    }

    /// Decodes `data`; a key given twice (at any level) is refused, since JSONDecoder would
    /// silently keep one of them. Types conforming to `ValidatedConfig` are validated.
    public static func decode<Config: Decodable>(_ type: Config.Type = Config.self, from data: Data,
                                                 file: String = "<memory>",
                                                 decoder: JSONDecoder = JSONDecoder()) throws -> Config {
        do {
            _ = try data.withUnsafeBytes { try StrictJSON.parse($0) }
        } catch let failure as StrictJSON.Failure {
            let message = failure.duplicateKey == nil ? "not valid JSON: \(failure.description)" : failure.description
            throw FormatError(file: file, problem: .invalidConfig, message: message)
        }
        let config: Config
        do {
            config = try decoder.decode(type, from: data)
        } catch let error as DecodingError {
            throw FormatError(file: file, problem: .invalidConfig, message: describe(error))
        } catch let error as FormatError {
            throw error
        } catch {
            throw FormatError(file: file, problem: .invalidConfig, message: "\(error)")
        }
        if let validated = config as? ValidatedConfig {
            try validated.validate(file: file)
        }
        return config
    }

    /// "key 'unet.block_out_channels[2]' ..." in the JSON's own terms.
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "key '\(path(context.codingPath + [key]))' missing"
        case .valueNotFound(let type, let context):
            return "key '\(path(context.codingPath))' is null, expected \(typeName(type))"
        case .typeMismatch(let type, let context):
            if context.codingPath.isEmpty {
                return "the top level is not what was expected (\(typeName(type)))"
            }
            return "key '\(path(context.codingPath))' has the wrong type, expected \(typeName(type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return "not valid JSON" + (detail.map { " (\($0))" } ?? "")
            }
            return "key '\(path(context.codingPath))' has an invalid value: \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        var result = ""
        for key in keys {
            if let index = key.intValue, key.stringValue.hasPrefix("Index") || key.stringValue == String(index) {
                result += "[\(index)]"
            } else {
                result += (result.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return result.isEmpty ? "<top level>" : result
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int32.Type, is Int64.Type, is UInt.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") || name.hasPrefix("[") { return "a list" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return name
        }
    }
}
