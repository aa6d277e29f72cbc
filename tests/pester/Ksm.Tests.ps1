# KSM on a copy of the captured 6.1 tree: /sys/kernel/mm/ksm as 6.1 has it (no general_profit, smart_scan or
# advisor), running, nothing merged; no /proc, so no process has merged pages.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $root = New-FixtureCopy
    $ksm = "$root/sys/kernel/mm/ksm"
}
AfterAll { Remove-FixtureCopy $root }

Describe 'Get-KsmStats' {
    BeforeAll { $stats = Get-KsmStats -Root $root }

    It 'reads the tunables and counters from /sys/kernel/mm/ksm' {
        $stats.PagesToScan | Should -Be (Get-Content "$ksm/pages_to_scan")
        $stats.SleepMilliseconds | Should -Be (Get-Content "$ksm/sleep_millisecs")
        $stats.MaxPageSharing | Should -Be (Get-Content "$ksm/max_page_sharing")
        $stats.PagesShared | Should -Be (Get-Content "$ksm/pages_shared")
        Get-Content "$ksm/run" | Should -Be '1'
        $stats.Run | Should -Be 'Run'
    }

    It 'gives $null, not 0, for the attributes 6.1 does not have' {
        foreach ($file in 'general_profit', 'smart_scan', 'advisor_mode') { Test-Path "$ksm/$file" | Should -BeFalse }
        $stats.GeneralProfit | Should -BeNullOrEmpty
        $stats.ProfitBytes | Should -BeNullOrEmpty
        $stats.SmartScan | Should -BeNullOrEmpty
        $stats.AdvisorMode | Should -BeNullOrEmpty
    }

    It 'gives no sharing ratio while nothing is shared' {
        $stats.PagesShared | Should -Be 0
        $stats.SharingRatio | Should -BeNullOrEmpty
        $stats.SavedBytes | Should -Be 0
    }

    It 'finds no process with merged pages in a root without /proc' {
        Get-KsmStats -Root $root -AllProcesses | Should -BeNullOrEmpty
        Get-KsmStats -Root $root -Name 'qemu*' | Should -BeNullOrEmpty
    }

    It 'reports a process that does not exist as ProcessNotFound with the id as target' {
        $failure = { Get-KsmStats -Root $root -ProcessId 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ProcessNotFound,VirtTools.Commands.Ksm.GetKsmStatsCommand' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failure.TargetObject | Should -Be 1
    }

    It 'reports a process name given without wildcards that matches nothing, per name' {
        Get-KsmStats -Root $root -Name qemu, 'kvm*' -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failures | Should -HaveCount 1
        $failures[0].TargetObject | Should -Be 'qemu'
    }

    It 'declares KsmStats and KsmProcessStats as its output types, and writes KsmStats by default' {
        (Get-Command Get-KsmStats).OutputType.Type | Should -Be ([VirtTools.Ksm.KsmStats]), ([VirtTools.Ksm.KsmProcessStats])
        $stats | Should -BeOfType ([VirtTools.Ksm.KsmStats])
    }

    It 'shows the default table with its column headers' {
        $stats | Out-String -Width 200 |
            Should -Match '(?m)^Run\s+PagesToScan\s+SleepMs\s+Shared\s+Sharing\s+Unshared\s+SavedMiB\s+Ratio\s+ProfitMiB\s+FullScans\s*$'
    }
}

Describe 'Get-KsmStats per process' {
    BeforeAll {
        # The capture has no /proc, so this root is written for the test: a QEMU guest with merged pages and this
        # pwsh with none, as a 6.1 kernel shows them (ksm_stat without ksm_zero_pages or ksm_merge_any). Plain files,
        # no sysfs links, so $TestDrive is safe.
        $procRoot = "$TestDrive/host"
        $qemu = New-Item -ItemType Directory "$procRoot/proc/4242"
        Set-Content "$qemu/comm" 'qemu-system-x86'
        [IO.File]::WriteAllText("$qemu/cmdline", "/usr/bin/qemu-system-x86_64`0-name`0guest=web1,debug-threads=on`0-m`02048`0")
        Set-Content "$qemu/ksm_stat" "ksm_rmap_items 300`nksm_merging_pages 120`nksm_process_profit 368640"
        Set-Content "$qemu/ksm_merging_pages" 120
        $shell = New-Item -ItemType Directory "$procRoot/proc/$PID"
        Set-Content "$shell/comm" 'pwsh'
        [IO.File]::WriteAllText("$shell/cmdline", "pwsh`0")
        Set-Content "$shell/ksm_stat" "ksm_rmap_items 0`nksm_merging_pages 0`nksm_process_profit 0"
        Set-Content "$shell/ksm_merging_pages" 0
    }

    It 'lists with -AllProcesses only the processes that have merged pages, QEMU guests by name' {
        $merging = Get-KsmStats -Root $procRoot -AllProcesses
        $merging.ProcessId | Should -Be 4242
        $merging.VmName | Should -Be 'web1'
        $merging.MergingPages | Should -Be 120
        $merging.RmapItems | Should -Be 300
    }

    It 'gives $null for the ksm_stat fields this kernel does not write' {
        (Get-KsmStats -Root $procRoot -ProcessId 4242).ZeroPages | Should -BeNullOrEmpty
        (Get-KsmStats -Root $procRoot -ProcessId 4242).MergeAny | Should -BeNullOrEmpty
    }

    It 'takes processes from Get-Process by Id' {
        $stats = Get-Process -Id $PID | Get-KsmStats -Root $procRoot
        $stats.ProcessId | Should -Be $PID
        $stats.Name | Should -Be 'pwsh'
        $stats.VmName | Should -BeNullOrEmpty
    }

    It 'takes its own output back by ProcessId and Root' {
        (Get-KsmStats -Root $procRoot -AllProcesses | Get-KsmStats).ProcessId | Should -Be 4242
    }

    It 'finds processes by name with wildcards' {
        (Get-KsmStats -Root $procRoot -Name 'qemu*').ProcessId | Should -Be 4242
    }

    It 'writes KsmProcessStats, shown in their default table' {
        $stats = Get-KsmStats -Root $procRoot -ProcessId 4242
        $stats | Should -BeOfType ([VirtTools.Ksm.KsmProcessStats])
        $stats | Out-String -Width 200 |
            Should -Match '(?m)^\s*ProcessId\s+Name\s+VmName\s+MergingPages\s+ZeroPages\s+RmapItems\s+SavedMiB\s+ProfitMiB\s*$'
    }
}

Describe 'Set-KsmConfig refusals and -WhatIf' {
    It 'changes nothing with -WhatIf' {
        $before = Get-TreeState $root
        Set-KsmConfig -Root $root -PagesToScan 200 -SleepMilliseconds 50 -Run Stop -WhatIf | Should -BeNullOrEmpty
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
    }

    It 'refuses max_page_sharing below 2 as KsmInvalidValue, and writes none of the other values either' {
        $before = Get-TreeState $root
        $failure = { Set-KsmConfig -Root $root -PagesToScan 300 -MaxPageSharing 1 -Confirm:$false } |
            Should -Throw -ErrorId 'KsmInvalidValue,VirtTools.Commands.Ksm.SetKsmConfigCommand' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
    }

    It 'refuses <Parameter> on 6.1 as KsmSettingNotSupported, naming the missing attribute' -ForEach @(
        @{ Parameter = 'SmartScan'; Value = $true; File = 'smart_scan' }
        @{ Parameter = 'AdvisorMode'; Value = 'scan-time'; File = 'advisor_mode' }
    ) {
        $settings = @{ $Parameter = $Value }
        $failure = { Set-KsmConfig -Root $root @settings -Confirm:$false } |
            Should -Throw -ErrorId 'KsmSettingNotSupported,VirtTools.Commands.Ksm.SetKsmConfigCommand' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'NotEnabled'
        $failure.TargetObject | Should -Be $File
    }

    It 'declares KsmStats as its output type' {
        (Get-Command Set-KsmConfig).OutputType.Type | Should -Be ([VirtTools.Ksm.KsmStats])
    }
}

Describe 'Set-KsmConfig writing' {
    BeforeAll {
        # These tests write, so they get a root of their own: the captured KSM folder alone (plain files, no sysfs
        # links, so $TestDrive is safe).
        $writable = "$TestDrive/ksm-host"
        New-Item -ItemType Directory "$writable/sys/kernel/mm" | Out-Null
        Copy-Item -Recurse $ksm "$writable/sys/kernel/mm/ksm"
        $after = Set-KsmConfig -Root $writable -PagesToScan 200 -SleepMilliseconds 50 -Run Stop -Confirm:$false
    }

    It 'writes each value where the kernel reads it' {
        Get-Content "$writable/sys/kernel/mm/ksm/pages_to_scan" | Should -Be '200'
        Get-Content "$writable/sys/kernel/mm/ksm/sleep_millisecs" | Should -Be '50'
        Get-Content "$writable/sys/kernel/mm/ksm/run" | Should -Be '0'
    }

    It 'outputs the state read back afterwards, as Get-KsmStats sees it' {
        $after | Should -BeOfType ([VirtTools.Ksm.KsmStats])
        $after.PagesToScan | Should -Be 200
        $after.Run | Should -Be 'Stop'
        (Get-KsmStats -Root $writable).SleepMilliseconds | Should -Be 50
    }
}
