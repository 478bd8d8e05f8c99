-- Get all auto-apply promotions
SELECT *
FROM promotions
WHERE company_id = ?
  AND store_id = ?
  AND is_active = TRUE
  AND is_auto_apply = TRUE
  AND start_date <= CURRENT_DATE
  AND end_date >= CURRENT_DATE;
