using System.Management.Automation;

namespace VirtTools.Commands;

/// <summary>Name filters as PowerShell users expect them: wildcards, case-insensitive, any of several patterns.</summary>
internal sealed class Wildcards
{
    private readonly WildcardPattern[] _patterns;

    public Wildcards(IEnumerable<string>? patterns) =>
        _patterns = (patterns ?? Array.Empty<string>()).Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();

    /// <summary>True when no pattern was given, or any pattern matches.</summary>
    public bool Matches(string? value) => _patterns.Length == 0 || (value is not null && _patterns.Any(p => p.IsMatch(value)));

    /// <summary>Patterns without wildcard characters: names that must match something or be reported as not found.</summary>
    public static IEnumerable<string> Literals(IEnumerable<string>? patterns) =>
        (patterns ?? Array.Empty<string>()).Where(p => !WildcardPattern.ContainsWildcardCharacters(p));
}
