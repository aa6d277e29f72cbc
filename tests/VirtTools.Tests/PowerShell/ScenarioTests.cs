using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>Runs each tests/scenarios/*.Scenario.ps1 against a private copy of the captured kernel tree.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class ScenarioTests
{
    public static TheoryData<string> Scenarios()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(RepositoryPaths.Scenarios, "*.Scenario.ps1").OrderBy(f => f, StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Scenario_passes(string scenario)
    {
        using var fixture = CapturedFixture.CreateCopy();
        using var ps = new PowerShellHarness();
        var result = ps.Run("param($path, $root) $ErrorActionPreference = 'Stop'; & $path -Root $root",
            new Dictionary<string, object?> { ["path"] = Path.Combine(RepositoryPaths.Scenarios, scenario), ["root"] = fixture.Path });
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
    }
}
