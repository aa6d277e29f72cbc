using System.Text;
using VirtTools.Config;

namespace VirtTools.Tests.Engine.Config;

/// <summary>
/// The hostile host profiles of issue 14 (item 2), each written to a file on demand and paired with what its rejection
/// must say: the ErrorId and where (file:line:column, or the file and its size when the file is never read). The engine,
/// hosted-runspace and agent-process suites all take their cases from here.
/// </summary>
public sealed record HostileProfile(string Name, string ErrorId, string Where, Action<string> Write)
{
    /// <summary>Deep enough to overflow YamlDotNet's recursive model many times over (about 40,000 levels did).</summary>
    public const int Deep = 100_000;

    /// <summary>The position <see cref="Where"/> names, in a file called <paramref name="fileName"/>.</summary>
    public string Position(string fileName) => Where.Replace("FILE", fileName, StringComparison.Ordinal);

    public override string ToString() => Name;

    public static IReadOnlyList<HostileProfile> All { get; } = new HostileProfile[]
    {
        // The inline style Export-VirtHostConfig writes, unclosed, then a key: YamlDotNet's scanner threw
        // InvalidOperationException, which killed the agent (exit 134).
        Text("unclosed flow mapping before a key", ConfigErrors.InvalidId, "FILE:4:1: the YAML is malformed here (the '{' at 3:14 is not closed)",
            "usbip:\n  exports:\n    - match: {vendorId: \"46f4\", productId: \"0001\"\nksm: {pagesToScan: 100}\n"),
        Text("unclosed flow mapping at the end", ConfigErrors.InvalidId, "FILE:4:1: While parsing a flow mapping, did not find expected ',' or '}'. (the '{' at 3:14 is not closed)",
            "usbip:\n  exports:\n    - match: {vendorId: \"46f4\", productId: \"0001\"\n"),
        Text("unclosed flow sequence", ConfigErrors.InvalidId, "FILE:4:3: the YAML is malformed here (the '[' at 3:12 is not closed)",
            "usbip:\n  server:\n    allow: [127.0.0.1, 10.0.0.0/8\n  exports: []\n"),
        // The profile's mapping is level 1, so the 32nd '[' (column 37) is the 33rd level.
        Text("100,000 nested [", ConfigErrors.TooDeepId, "FILE:1:37: lists and mappings nest more than 32 levels",
            "ksm: " + new string('[', Deep) + "\n"),
        // 100,000 "{a: " are 400 KB, past the size limit; 60,000 fit in it and still overflowed the stack.
        Text("100,000 nested {", ConfigErrors.TooLargeId, $"FILE: 400,006 bytes, more than the {ProfileLimits.MaxBytes:N0} bytes",
            "ksm: " + Repeat("{a: ", Deep) + "\n"),
        Text("60,000 nested {", ConfigErrors.TooDeepId, "FILE:1:130: lists and mappings nest more than 32 levels",
            "ksm: " + Repeat("{a: ", 60_000) + "\n"),
        // Block nesting by indentation: each "- " opens a sequence two columns deeper (on one line, or the file
        // would need 10 GB of spaces).
        Text("100,000 nested block sequences", ConfigErrors.TooDeepId, "FILE:1:65: lists and mappings nest more than 32 levels",
            Repeat("- ", Deep) + "x\n"),
        Text("block mappings indented 40 deep", ConfigErrors.TooDeepId, "FILE:33:65: lists and mappings nest more than 32 levels",
            string.Concat(Enumerable.Range(0, 40).Select(level => new string(' ', 2 * level) + "a:\n")) + new string(' ', 80) + "x\n"),
        AliasKeyChain(8),
        AliasKeyChain(11),
        AliasKeyChain(24),
        // Nine aliases of nine aliases...: 9^5 values from 6 short lines.
        Text("billion laughs in values", ConfigErrors.TooLargeId, "FILE:5:10: the profile grows past 10,000 values",
            "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + string.Concat(Enumerable.Range(1, 9).Select(i =>
                $"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 9))}]\n"))),
        Text("101 aliases", ConfigErrors.TooManyAliasesId, "FILE:2:409: more than 100 aliases",
            "ksm: &k {run: Run}\nusbip: [" + string.Join(", ", Enumerable.Repeat("*k", 101)) + "]\n"),
        Text("an alias inside its own anchor", ConfigErrors.InvalidId, "FILE:1:10: *a stands inside the &a it names",
            "ksm: &a [*a]\n"),
        new("50 MB of exports", ConfigErrors.TooLargeId, $"FILE: 52,428,800 bytes, more than the {ProfileLimits.MaxBytes:N0} bytes", path =>
        {
            var block = Encoding.UTF8.GetBytes(Repeat("    - match: {vendorId: \"46f4\", productId: \"0001\"}\n", 1024));
            using var file = File.Create(path);
            file.Write("usbip:\n  exports:\n"u8);
            while (file.Length + block.Length <= 50L << 20) file.Write(block);
            file.Write(Encoding.UTF8.GetBytes(new string('#', (int)((50L << 20) - file.Length - 1)) + "\n"));
        }),
        // One line of 300 MB, sparse: it costs no disk, and a reader that reads it whole still pays 300 MB.
        new("300 MB on one line", ConfigErrors.TooLargeId, $"FILE: 314,572,800 bytes, more than the {ProfileLimits.MaxBytes:N0} bytes", path =>
        {
            using var file = File.Create(path);
            file.Write("ksm: "u8);
            file.SetLength(300L << 20);
        }),
    };

    public static HostileProfile Named(string name) => All.Single(p => p.Name == name);

    /// <summary>
    /// Keys that are aliases of mappings whose keys are aliases of the level below: the model hashes, compares and
    /// prints each key whole, which took 6 s at depth 8 and never ended at depth 11.
    /// </summary>
    private static HostileProfile AliasKeyChain(int depth) =>
        Text($"alias-key chain {depth} deep", ConfigErrors.InvalidId, "FILE:2:12: a key must be a plain name, not a list or a mapping",
            "k0: &k0 {lol: lol}\n" + string.Concat(Enumerable.Range(1, depth).Select(i => $"k{i}: &k{i} {{? *k{i - 1} : *k{i - 1}, ? [*k{i - 1}] : 1}}\n"))
            + $"? *k{depth}\n: 1\n? *k{depth}\n: 2\n");

    private static HostileProfile Text(string name, string errorId, string where, string yaml) =>
        new(name, errorId, where, path => File.WriteAllText(path, yaml));

    private static string Repeat(string text, int count) => new StringBuilder(text.Length * count).Insert(0, text, count).ToString();
}
