using System.Text.RegularExpressions;

namespace VirtTools.UsbIp.Containers;

/// <summary>
/// The one rule for a container name given to Connect-UsbIpDevice, a profile or a record: letters, digits, '_', '-'
/// and '.', not starting with '-' or '.', at most 64 characters. LXC accepts more, but a name with a space, a slash
/// or a leading '-' would be read as something else by lxc-device's command line or the record file.
/// </summary>
public static partial class ContainerNameText
{
    public const int MaxLength = 64;

    /// <summary>What is wrong with the name, or null when it is good.</summary>
    public static string? FindProblem(string? name) =>
        name is null || name.Length == 0 ? "is empty"
        : name.Length > MaxLength ? $"is longer than {MaxLength} characters"
        : NamePattern().IsMatch(name) ? null
        : "may hold only letters, digits, '_', '-' and '.', and may not start with '-' or '.'";

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]*\z")]
    private static partial Regex NamePattern();
}
