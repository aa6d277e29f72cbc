using System.Text.RegularExpressions;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// The README's "Usage by task" is a demo a reader runs on the captured tree (VIRTTOOLS_ROOT at it): every PowerShell
/// block there runs, as written, without an error.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed partial class ReadmeTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();

    public static TheoryData<string, string> UsageBlocks()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "README.md"));
        var start = readme.IndexOf("\n## Usage by task", StringComparison.Ordinal);
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var data = new TheoryData<string, string>();
        string heading = "";
        foreach (Match match in HeadingOrBlock().Matches(readme[start..(end < 0 ? readme.Length : end)]))
        {
            if (match.Groups["heading"].Success) heading = match.Groups["heading"].Value.Trim();
            else data.Add(heading, match.Groups["code"].Value);
        }
        return data;
    }

    [Fact]
    public void Every_task_of_the_usage_section_has_a_block_to_run() =>
        Assert.Equal(6, UsageBlocks().Select(row => (string)row[0]).Distinct().Count());

    [Theory]
    [MemberData(nameof(UsageBlocks))]
    public void The_block_runs_on_the_demo_tree(string task, string code)
    {
        using var fixture = CapturedFixture.CreateCopy();
        using var workingDirectory = new TemporaryTree("readme");
        var previous = Environment.GetEnvironmentVariable("VIRTTOOLS_ROOT");
        Environment.SetEnvironmentVariable("VIRTTOOLS_ROOT", fixture.Path);
        try
        {
            var result = _ps.Run($"Set-Location '{workingDirectory.Path}'\n{code}", render: true);
            Assert.True(result.Succeeded, $"README, {task}:\n{code}\n{_ps.HostErrorText}{PowerShellHarness.Describe(result)}");
        }
        finally
        {
            Environment.SetEnvironmentVariable("VIRTTOOLS_ROOT", previous);
        }
    }

    [GeneratedRegex(@"^### (?<heading>[^\n]+)$|^```powershell\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex HeadingOrBlock();

    public void Dispose() => _ps.Dispose();
}
