# KSM on a copy of the captured 6.1 tree: read, validate, preview and change the tunables.
param($Root)
. "$PSScriptRoot/_Assert.ps1"

$stats = Get-KsmStats -Root $Root
Assert-Equal 'Run' "$($stats.Run)" 'the captured kernel had KSM running'
Assert-Equal 100 $stats.PagesToScan 'pages_to_scan as captured'
Assert-Null $stats.ProfitBytes 'general_profit does not exist on 6.1: $null, not 0'
Assert-Null $stats.SmartScan 'smart_scan does not exist on 6.1'
Assert-Null $stats.SharingRatio 'nothing shared, so no ratio'

Assert-Equal 0 @(Get-KsmStats -AllProcesses -Root $Root).Count 'the captured tree has no /proc, so no process has merged pages'

Set-KsmConfig -PagesToScan 200 -Run Stop -WhatIf -Root $Root
Assert-Equal "100`n" ([IO.File]::ReadAllText("$Root/sys/kernel/mm/ksm/pages_to_scan")) '-WhatIf writes nothing'

Assert-Throws { Set-KsmConfig -MaxPageSharing 1 -Root $Root } 'KsmInvalidValue' 'max_page_sharing below 2 is refused before writing'
Assert-Throws { Set-KsmConfig -SmartScan $true -Root $Root } 'KsmSettingNotSupported' 'smart_scan needs Linux 6.7'

$after = Set-KsmConfig -PagesToScan 200 -SleepMilliseconds 50 -Run Stop -Root $Root
Assert-Equal 200 $after.PagesToScan 'the new value is in the output'
Assert-Equal 'Stop' "$($after.Run)" 'run state changed'
Assert-Equal 200 (Get-KsmStats -Root $Root).PagesToScan 'and Get-KsmStats reads it back'
