using System.Diagnostics;
using VirtTools.Config;
using VirtTools.Tests.Engine.Config;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// The hostile-profile suite in a hosted runspace, through every cmdlet that reads a profile: each file is one error
/// record with its ErrorId, the input as target and the position in the message, and the session goes on. Then the
/// nesting that overflowed the stack, inside a real `virttools -c` process: the host survives and prints the error.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class HostileProfileCmdletTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();
    private readonly TemporaryTree _files = new("hostile-profiles");

    public static TheoryData<string> Cases => new(HostileProfile.All.Select(p => p.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_cmdlet_that_reads_a_profile_reports_a_hostile_one_as_an_error_record_with_its_position(string name)
    {
        var profile = HostileProfile.Named(name);
        var path = _files.Resolve("/host.yaml");
        profile.Write(path);
        _files.Directory("/root");

        var result = _ps.Run(
            """
            param($f, $root)
            Get-VirtHostConfig $f
            Test-VirtHostConfig $f -Root $root
            Sync-VirtHostConfig $f -Root $root -Confirm:$false
            'the session goes on'
            """,
            new Dictionary<string, object?> { ["f"] = path, ["root"] = _files.Resolve("/root") });

        Assert.Equal(new object[] { "the session goes on" }, result.Output.Select(o => o.BaseObject));
        Assert.Equal(
            new[] { "GetVirtHostConfigCommand", "TestVirtHostConfigCommand", "SyncVirtHostConfigCommand" }.Select(c => $"{profile.ErrorId},VirtTools.Commands.Config.{c}"),
            result.Errors.Select(e => e.FullyQualifiedErrorId));
        foreach (var error in result.Errors)
        {
            Assert.Equal(path, error.TargetObject);
            Assert.Contains(profile.Position(path), error.Exception.Message);
            Assert.DoesNotContain("Operation is not valid", error.Exception.Message);
            Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
        }
    }

    [Fact]
    public async Task Nesting_that_overflowed_the_stack_is_an_error_a_virttools_script_catches()
    {
        var path = _files.Resolve("/deep.yaml");
        HostileProfile.Named("100,000 nested [").Write(path);
        var start = new ProcessStartInfo(Path.Combine(RepositoryPaths.Root, "out", "virttools"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-c", $"try {{ Get-VirtHostConfig '{path}' -ErrorAction Stop }} catch {{ 'caught ' + $_.FullyQualifiedErrorId }}; Get-VirtHostConfig '{path}'; 'still here'" })
            start.ArgumentList.Add(argument);
        using var host = Process.Start(start)!;
        var output = host.StandardOutput.ReadToEndAsync();
        var error = host.StandardError.ReadToEndAsync();
        try
        {
            await host.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var (printed, complained) = (await output, await error);
            Assert.Contains($"caught {ConfigErrors.TooDeepId},VirtTools.Commands.Config.GetVirtHostConfigCommand", printed);
            Assert.Contains("still here", printed);
            Assert.Contains($"{path}:1:37: lists and mappings nest more than 32 levels", complained);
            Assert.True(host.ExitCode == 1, $"exit {host.ExitCode}\n{printed}\n{complained}"); // an error was written: 1, not 134
        }
        finally
        {
            if (!host.HasExited) host.Kill();
        }
    }

    public void Dispose()
    {
        _ps.Dispose();
        _files.Dispose();
    }
}
