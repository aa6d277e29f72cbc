using VirtTools.Diagnostics;
using VirtTools.Ksm;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Ksm;

public sealed class KsmConfiguratorTests
{
    private static SystemRoot FixtureRoot => new(CapturedFixture.Shared);

    [Fact]
    public void Unmerge_goes_first_and_Run_goes_last_with_the_tunables_between()
    {
        var unmerge = KsmConfigurator.Plan(FixtureRoot, new KsmSettings { Run = KsmRunState.Unmerge, MaxPageSharing = 512, PagesToScan = 300 });
        Assert.Equal(new[] { "run", "pages_to_scan", "max_page_sharing" }, unmerge.Select(w => w.Attribute));
        var start = KsmConfigurator.Plan(FixtureRoot, new KsmSettings { Run = KsmRunState.Run, SleepMilliseconds = 50 });
        Assert.Equal(new[] { ("sleep_millisecs", "50"), ("run", "1") }, start.Select(w => (w.Attribute, w.Value)));
    }

    [Theory]
    [InlineData(0, null, null)]
    [InlineData(null, -1, null)]
    [InlineData(null, null, 1)]
    public void Out_of_range_values_are_KsmInvalidValue_before_anything_is_written(int? pages, int? sleep, int? maxSharing)
    {
        using var copy = CapturedFixture.CreateCopy();
        var root = new SystemRoot(copy.Path);
        var error = Assert.Throws<VirtToolsException>(() =>
            KsmConfigurator.Plan(root, new KsmSettings { Run = KsmRunState.Stop, PagesToScan = pages, SleepMilliseconds = sleep, MaxPageSharing = maxSharing }));
        Assert.Equal("KsmInvalidValue", error.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Assert.Equal("1\n", copy.Read("/sys/kernel/mm/ksm/run"));
    }

    [Theory]
    [InlineData("SmartScan", "6.7")]
    [InlineData("AdvisorMode", "6.8")]
    public void A_setting_the_6_1_kernel_lacks_is_KsmSettingNotSupported_naming_the_kernel_needed(string parameter, string version)
    {
        var settings = parameter == "SmartScan" ? new KsmSettings { SmartScan = true } : new KsmSettings { AdvisorMode = "scan-time" };
        var error = Assert.Throws<VirtToolsException>(() => KsmConfigurator.Plan(FixtureRoot, settings));
        Assert.Equal("KsmSettingNotSupported", error.ErrorId);
        Assert.Contains($"Linux {version}", error.RecommendedAction);
    }

    [Fact]
    public void Pages_to_scan_while_the_advisor_runs_is_refused_unless_the_advisor_is_turned_off_too()
    {
        using var tree = new TemporaryTree("ksm");
        tree.File("/sys/kernel/mm/ksm/advisor_mode", "none [scan-time]").File("/sys/kernel/mm/ksm/pages_to_scan", "500");
        var root = new SystemRoot(tree.Path);
        Assert.Equal("KsmInvalidValue", Assert.Throws<VirtToolsException>(() => KsmConfigurator.Plan(root, new KsmSettings { PagesToScan = 200 })).ErrorId);
        var plan = KsmConfigurator.Plan(root, new KsmSettings { PagesToScan = 200, AdvisorMode = "none" });
        Assert.Equal(new[] { "advisor_mode", "pages_to_scan" }, plan.Select(w => w.Attribute));
    }

    [Fact]
    public void Applying_the_plan_to_a_fixture_copy_replaces_the_attribute_files()
    {
        using var copy = CapturedFixture.CreateCopy();
        var root = new SystemRoot(copy.Path);
        foreach (var write in KsmConfigurator.Plan(root, new KsmSettings { Run = KsmRunState.Stop, PagesToScan = 1250, UseZeroPages = true }))
            KsmConfigurator.Apply(root, write);
        var stats = KsmReader.ReadStats(root);
        Assert.Equal(KsmRunState.Stop, stats.Run);
        Assert.Equal(1250, stats.PagesToScan);
        Assert.True(stats.UseZeroPages);
        Assert.Equal("1250\n", copy.Read("/sys/kernel/mm/ksm/pages_to_scan"));
    }

    [Fact]
    public void Planning_on_a_kernel_without_KSM_is_KsmNotAvailable()
    {
        using var tree = new TemporaryTree("no-ksm");
        Assert.Equal("KsmNotAvailable", Assert.Throws<VirtToolsException>(() => KsmConfigurator.Plan(new SystemRoot(tree.Path), new KsmSettings { Run = KsmRunState.Run })).ErrorId);
    }
}
