using System.Management.Automation;

namespace VirtTools.Commands.Completion;

/// <summary>
/// The word the user is completing, as PowerShell hands it over: possibly opened with a quote, possibly with
/// wildcards. Matches candidates case-insensitively by prefix, and writes a completion back quoted the way the
/// user started it (or single-quoted when the value needs quotes on a command line).
/// </summary>
internal sealed class CompletionWord
{
    // Characters that end or change a bare argument in PowerShell's argument mode.
    private static readonly char[] NeedsQuotes = " \t'\"`$;,|&(){}@#<>".ToCharArray();

    private readonly char? _quote;
    private readonly WildcardPattern _pattern;

    public CompletionWord(string? wordToComplete)
    {
        var text = wordToComplete ?? "";
        if (text.Length > 0 && IsQuote(text[0]))
        {
            _quote = text[0];
            text = text.Length > 1 && text[^1] == _quote ? text[1..^1] : text[1..];
        }
        _pattern = new WildcardPattern(text + "*", WildcardOptions.IgnoreCase);
    }

    public bool Matches(CompletionCandidate candidate) =>
        _pattern.IsMatch(candidate.Value) || candidate.AlsoMatches.Any(_pattern.IsMatch);

    public CompletionResult Complete(CompletionCandidate candidate) =>
        new(Quote(candidate.Value), candidate.ListItemText, CompletionResultType.ParameterValue, candidate.ListItemText);

    private string Quote(string value)
    {
        if (_quote is null && value.IndexOfAny(NeedsQuotes) < 0) return value;
        return _quote == '"'
            ? "\"" + value.Replace("`", "``").Replace("$", "`$").Replace("\"", "`\"") + "\""
            : "'" + value.Replace("'", "''") + "'";
    }

    private static bool IsQuote(char c) => c is '\'' or '"';
}
