using VirtTools.Diagnostics;
using VirtTools.Ksm;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Ksm;

public sealed class KsmReaderTests
{
    private static KsmStats Fixture => KsmReader.ReadStats(new SystemRoot(CapturedFixture.Shared));

    [Fact]
    public void The_captured_6_1_kernel_s_counters_and_tunables_are_read()
    {
        var stats = Fixture;
        Assert.Equal(KsmRunState.Run, stats.Run);
        Assert.Equal(100, stats.PagesToScan);
        Assert.Equal(20, stats.SleepMilliseconds);
        Assert.Equal(256, stats.MaxPageSharing);
        Assert.Equal(2000, stats.StableNodeChainsPruneMilliseconds);
        Assert.True(stats.MergeAcrossNodes);
        Assert.False(stats.UseZeroPages);
        Assert.Equal(0, stats.PagesSharing);
        Assert.Equal(CapturedFixture.Shared, stats.Root);
    }

    [Fact]
    public void Attributes_newer_than_6_1_are_null_on_the_captured_kernel_not_zero()
    {
        var stats = Fixture;
        Assert.Null(stats.GeneralProfit);
        Assert.Null(stats.ProfitBytes);
        Assert.Null(stats.KsmZeroPages);
        Assert.Null(stats.PagesScanned);
        Assert.Null(stats.PagesSkipped);
        Assert.Null(stats.SmartScan);
        Assert.Null(stats.AdvisorMode);
        Assert.Null(stats.AdvisorMaxCpu);
        Assert.Null(stats.AdvisorMinPagesToScan);
        Assert.Null(stats.AdvisorMaxPagesToScan);
        Assert.Null(stats.AdvisorTargetScanTime);
    }

    [Fact]
    public void A_captured_root_counts_in_4096_byte_pages_and_nothing_shared_gives_no_ratio()
    {
        var stats = Fixture;
        Assert.Equal(4096, stats.PageSize);
        Assert.Equal(0, stats.SavedBytes);
        Assert.Null(stats.SharingRatio);
    }

    /// <summary>Each attribute file of /sys/kernel/mm/ksm and the property that reports it.</summary>
    private static readonly (string File, Func<KsmStats, object?> Property)[] Attributes =
    {
        ("run", s => s.Run), ("pages_to_scan", s => s.PagesToScan), ("sleep_millisecs", s => s.SleepMilliseconds),
        ("pages_shared", s => s.PagesShared), ("pages_sharing", s => s.PagesSharing), ("pages_unshared", s => s.PagesUnshared),
        ("pages_volatile", s => s.PagesVolatile), ("full_scans", s => s.FullScans), ("merge_across_nodes", s => s.MergeAcrossNodes),
        ("use_zero_pages", s => s.UseZeroPages), ("max_page_sharing", s => s.MaxPageSharing), ("stable_node_chains", s => s.StableNodeChains),
        ("stable_node_dups", s => s.StableNodeDups), ("stable_node_chains_prune_millisecs", s => s.StableNodeChainsPruneMilliseconds),
        ("general_profit", s => s.GeneralProfit), ("ksm_zero_pages", s => s.KsmZeroPages), ("pages_scanned", s => s.PagesScanned),
        ("pages_skipped", s => s.PagesSkipped), ("smart_scan", s => s.SmartScan), ("advisor_mode", s => s.AdvisorMode),
        ("advisor_max_cpu", s => s.AdvisorMaxCpu), ("advisor_min_pages_to_scan", s => s.AdvisorMinPagesToScan),
        ("advisor_max_pages_to_scan", s => s.AdvisorMaxPagesToScan), ("advisor_target_scan_time", s => s.AdvisorTargetScanTime),
    };

    [Theory]
    [MemberData(nameof(TestMachine.All), MemberType = typeof(TestMachine))]
    public void Each_attribute_is_null_exactly_when_the_kernel_has_no_file_for_it(string machineName)
    {
        using var machine = TestMachine.Open(machineName);
        if (!machine.Has(KsmReader.KsmDirectory))
        {
            Assert.Equal("KsmNotAvailable", Assert.Throws<VirtToolsException>(() => KsmReader.ReadStats(machine.Root)).ErrorId);
            return;
        }
        var stats = KsmReader.ReadStats(machine.Root);
        foreach (var (file, property) in Attributes)
        {
            bool present = machine.Has($"{KsmReader.KsmDirectory}/{file}");
            Assert.True(present == (property(stats) is not null), $"{file}: the file is {(present ? "there" : "absent")} but the property is {property(stats) ?? "null"}");
        }
        Assert.Equal(machine.IsLive ? Environment.SystemPageSize : 4096, stats.PageSize);
    }

    [Fact]
    public void Saved_bytes_count_sharing_and_zero_pages_and_the_ratio_is_sharing_over_shared()
    {
        using var tree = new TemporaryTree("ksm");
        tree.File("/sys/kernel/mm/ksm/pages_shared", "10").File("/sys/kernel/mm/ksm/pages_sharing", "45")
            .File("/sys/kernel/mm/ksm/ksm_zero_pages", "5").File("/sys/kernel/mm/ksm/general_profit", "123456");
        var stats = KsmReader.ReadStats(new SystemRoot(tree.Path));
        Assert.Equal(50L * 4096, stats.SavedBytes);
        Assert.Equal(4.5, stats.SharingRatio);
        Assert.Equal(123456, stats.ProfitBytes);
    }

    [Fact]
    public void Garbage_and_unknown_run_values_read_as_null()
    {
        using var tree = new TemporaryTree("ksm");
        tree.File("/sys/kernel/mm/ksm/run", "7").File("/sys/kernel/mm/ksm/pages_sharing", "lots")
            .File("/sys/kernel/mm/ksm/smart_scan", "maybe").File("/sys/kernel/mm/ksm/advisor_mode", "");
        var stats = KsmReader.ReadStats(new SystemRoot(tree.Path));
        Assert.Null(stats.Run);
        Assert.Null(stats.PagesSharing);
        Assert.Null(stats.SavedBytes);
        Assert.Null(stats.SmartScan);
        Assert.Null(stats.AdvisorMode);
    }

    [Theory]
    [InlineData("[none] scan-time", "none")]
    [InlineData("none [scan-time]", "scan-time")]
    [InlineData("scan-time", "scan-time")]
    [InlineData("none scan-time", null)]
    public void The_advisor_mode_is_the_bracketed_choice(string text, string? expected) =>
        Assert.Equal(expected, KsmReader.SelectedChoice(text));

    [Fact]
    public void A_kernel_without_KSM_is_KsmNotAvailable_with_the_CONFIG_KSM_hint()
    {
        using var tree = new TemporaryTree("no-ksm");
        tree.Directory("/sys/kernel/mm");
        var error = Assert.Throws<VirtToolsException>(() => KsmReader.ReadStats(new SystemRoot(tree.Path)));
        Assert.Equal("KsmNotAvailable", error.ErrorId);
        Assert.Contains("CONFIG_KSM", error.RecommendedAction);
    }
}
