using VirtTools.Diagnostics;

namespace VirtTools.Config;

/// <summary>
/// The failures about host profile files that the parser, the writer, the cmdlets and the agent report the same
/// way. A problem inside a file is named as file:line:column, one per line under a first line that says what
/// happened to the profile.
/// </summary>
public static class ConfigErrors
{
    public const string NotFoundId = "VirtHostConfigNotFound";
    public const string UnreadableId = "VirtHostConfigUnreadable";
    public const string InvalidId = "VirtHostConfigInvalid";
    public const string TooLargeId = "VirtHostConfigTooLarge";
    public const string TooDeepId = "VirtHostConfigTooDeep";
    public const string TooManyAliasesId = "VirtHostConfigTooManyAliases";
    public const string UnwritableId = "VirtHostConfigUnwritable";
    public const string UnexpectedFailureId = "VirtHostSyncUnexpectedFailure";
    public const string AttachmentAmbiguousId = "UsbIpAttachmentAmbiguous";
    public const string ExportAmbiguousId = "UsbIpExportAmbiguous";

    private const string SchemaHelp = "see about_VirtTools_HostProfile for the schema.";

    /// <summary>"host.yaml:4:7": how every problem inside a profile is located (line and column count from 1).</summary>
    public static string At(string source, long line, long column) => $"{source}:{line}:{column}";

    public static VirtToolsException NotFound(string path, Exception cause) => new(NotFoundId, FailureKind.NotFound,
        $"The host profile '{path}' does not exist.", null, path, cause);

    public static VirtToolsException Unreadable(string path, Exception cause) => new(UnreadableId, FailureKind.PermissionDenied,
        $"Cannot read the host profile '{path}': {cause.Message}", "Run as root, or check the file's permissions.", path, cause);

    /// <summary>The YAML does not parse, or the profile breaks the schema: every problem found, each located.</summary>
    public static VirtToolsException Invalid(string source, IReadOnlyList<string> problems) => new(InvalidId, FailureKind.InvalidData,
        $"The host profile '{source}' is not valid; nothing was applied:\n  " + string.Join("\n  ", problems),
        "Fix the lines named above; " + SchemaHelp, source);

    /// <summary>
    /// More bytes than <see cref="ProfileLimits.MaxBytes"/>: known from the file's size before it is read (then
    /// <paramref name="bytes"/> is that size), or from reading one byte past the limit (a device, a file still growing).
    /// </summary>
    public static VirtToolsException TooLarge(string source, long? bytes) => new(TooLargeId, FailureKind.LimitExceeded,
        $"The host profile '{source}' was not read; nothing was applied:\n  {source}: "
        + (bytes is { } size ? $"{size:N0} bytes, more than" : "more than") + $" the {ProfileLimits.MaxBytes:N0} bytes a profile may hold.",
        "Check that the path names the profile itself (a few KB).", source);

    /// <summary>More nodes than <see cref="ProfileLimits.MaxNodes"/>, counting each alias as the nodes it stands for.</summary>
    public static VirtToolsException TooManyNodes(string source, string location) => new(TooLargeId, FailureKind.LimitExceeded,
        $"The host profile '{source}' was rejected; nothing was applied:\n  {location}: the profile grows past {ProfileLimits.MaxNodes:N0} values here (an alias counts as everything its anchor holds).",
        "Write the profile out without nested aliases; " + SchemaHelp, source);

    public static VirtToolsException TooDeep(string source, string location) => new(TooDeepId, FailureKind.LimitExceeded,
        $"The host profile '{source}' was rejected; nothing was applied:\n  {location}: lists and mappings nest more than {ProfileLimits.MaxDepth} levels deep here.",
        "A profile nests 6 levels at most; look for unclosed or stray '[' and '{'; " + SchemaHelp, source);

    public static VirtToolsException TooManyAliases(string source, string location) => new(TooManyAliasesId, FailureKind.LimitExceeded,
        $"The host profile '{source}' was rejected; nothing was applied:\n  {location}: more than {ProfileLimits.MaxAliases} aliases (*name).",
        "Write the repeated parts out instead of aliasing them; " + SchemaHelp, source);

    public static VirtToolsException Unwritable(string path, Exception cause) => new(UnwritableId,
        cause is UnauthorizedAccessException ? FailureKind.PermissionDenied : FailureKind.OperationFailed,
        $"Cannot write the host profile '{path}': {cause.Message}", "Run as root for a file under /etc, or choose another -Path.", path, cause);

    /// <summary>
    /// What applying one profile item throws for an exception that is not a VirtToolsException (a bug, or a library
    /// refusing what a peer sent in a way nobody foresaw), so the item is recorded as failed and retried instead of
    /// ending the sync, or the agent with it.
    /// </summary>
    public static VirtToolsException UnexpectedFailure(string action, object? target, Exception cause) => new(UnexpectedFailureId, FailureKind.OperationFailed,
        $"{action} failed unexpectedly: {cause.GetType().Name}: {cause.Message}",
        "This is a fault in VirtTools or a peer it did not foresee: report the message with the server or device involved; the agent tries again with its backoff.",
        target, cause);
}
